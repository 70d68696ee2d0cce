"""Operations on the unit tree. Callers commit."""
from __future__ import annotations

import csv
from dataclasses import dataclass

from sqlalchemy import String, func, literal, select, update

from ..extensions import db
from .models import OrgUnit

LEVELS = ("province", "district", "commune")


class OrgError(ValueError):
    """A unit operation that cannot be done; the message is shown to the user."""


@dataclass
class UnitRow:
    line: int
    code: str
    name: str
    level: str
    kind: str
    parent_code: str


@dataclass
class UnitProblem:
    line: int
    message: str


def parse_units_csv(text: str) -> tuple[list[UnitRow], list[UnitProblem]]:
    """Parse code,name,level,kind,parent_code rows; lines starting with # are comments."""
    text = text.lstrip("\ufeff")
    rows: list[UnitRow] = []
    problems: list[UnitProblem] = []
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        return rows, [UnitProblem(1, "file is empty")]
    reader = csv.reader([line for _, line in numbered])
    header = [h.strip().lower() for h in next(reader)]
    needed = ["code", "name", "level", "kind", "parent_code"]
    missing = [h for h in needed if h not in header]
    if missing:
        return rows, [UnitProblem(numbered[0][0], f"missing columns: {', '.join(missing)}")]
    seen: set[str] = set()
    for (line_no, _), values in zip(numbered[1:], reader):
        record = dict(zip(header, (v.strip() for v in values)))
        row = UnitRow(line_no, record.get("code", ""), record.get("name", ""),
                      record.get("level", ""), record.get("kind", ""), record.get("parent_code", ""))
        if not row.code or not row.name:
            problems.append(UnitProblem(line_no, "code and name are required"))
        elif row.level not in LEVELS:
            problems.append(UnitProblem(line_no, f"level must be one of {', '.join(LEVELS)}"))
        elif row.code in seen:
            problems.append(UnitProblem(line_no, f"code {row.code} appears twice"))
        else:
            seen.add(row.code)
            rows.append(row)
    return rows, problems


def _set_path(unit: OrgUnit) -> None:
    parent = unit.parent
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    unit.depth = (parent.depth + 1) if parent else 0


def load_units(rows: list[UnitRow]) -> dict[str, int]:
    """Create or update units by code. Returns counts of created/updated/unchanged."""
    existing = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    pending = list(rows)
    # Parents first: repeat passes until every row whose parent is known is placed.
    while pending:
        progressed = False
        for row in list(pending):
            parent = existing.get(row.parent_code) if row.parent_code else None
            if row.parent_code and parent is None:
                continue
            unit = existing.get(row.code)
            if unit is None:
                unit = OrgUnit(code=row.code, name=row.name, level=row.level, kind=row.kind, parent=parent)
                db.session.add(unit)
                db.session.flush()
                _set_path(unit)
                existing[row.code] = unit
                counts["created"] += 1
            elif (unit.name, unit.level, unit.kind, unit.parent_id) != (
                row.name, row.level, row.kind, parent.id if parent else None
            ):
                if unit.name != row.name:
                    rename_unit(unit, row.name)
                unit.level, unit.kind = row.level, row.kind
                if unit.parent_id != (parent.id if parent else None):
                    move_unit(unit, parent)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
            pending.remove(row)
            progressed = True
        if not progressed:
            codes = ", ".join(f"{r.code} (line {r.line})" for r in pending)
            raise OrgError(f"parent unit not found for: {codes}")
    db.session.flush()
    return counts


def load_units_csv(text: str) -> dict[str, int]:
    rows, problems = parse_units_csv(text)
    if problems:
        raise OrgError("; ".join(f"line {p.line}: {p.message}" for p in problems))
    return load_units(rows)


def subtree_condition(unit: OrgUnit):
    """SQL condition: OrgUnit is ``unit`` or below it (one index range scan)."""
    low, high = unit.subtree_bounds
    return (OrgUnit.path >= low) & (OrgUnit.path < high)


def is_within(unit: OrgUnit | None, scope: OrgUnit) -> bool:
    return unit is not None and unit.path.startswith(scope.path)


def rename_unit(unit: OrgUnit, new_name: str) -> None:
    new_name = new_name.strip()
    if not new_name:
        raise OrgError("name is required")
    unit.name = new_name


def move_unit(unit: OrgUnit, new_parent: OrgUnit | None) -> None:
    """Re-hang a unit (and everything below it) under another parent."""
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise OrgError("a unit cannot be moved under itself")
    old_path, old_depth = unit.path, unit.depth
    new_path = (new_parent.path if new_parent else "/") + f"{unit.id}/"
    new_depth = (new_parent.depth + 1) if new_parent else 0
    low, high = unit.subtree_bounds
    db.session.execute(
        update(OrgUnit)
        .where(OrgUnit.path >= low, OrgUnit.path < high)
        .values(
            path=literal(new_path, String) + func.substr(OrgUnit.path, len(old_path) + 1),
            depth=OrgUnit.depth - old_depth + new_depth,
        )
        .execution_options(synchronize_session=False)
    )
    unit.parent_id = new_parent.id if new_parent else None
    db.session.flush()
    db.session.expire_all()
