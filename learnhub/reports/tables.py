"""The dashboard's tables, built once and used three ways: the page, the CSV and the XLSX.
The screen and the files therefore show the same numbers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from ..orgs.models import OrgUnit
from .figures import Counts, Dashboard, OfficialFigures, Rate, WeakTopics


@dataclass
class Column:
    key: str
    label: str
    kind: str = "int"  # text | int | rate (a Rate: count and percent) | share (a Rate: percent only) | date
    width: int = 12  # characters, in the spreadsheet


@dataclass
class Row:
    values: dict
    unit: OrgUnit | None = None  # the unit to drill into
    drill: bool = False


@dataclass
class Table:
    name: str  # in URLs and file names
    title: str
    sheet: str  # the spreadsheet's sheet name
    columns: list[Column]
    rows: list[Row]
    total: Row | None = None
    note: str = ""

    def sort(self, key: str | None, descending: bool) -> Table:
        column = next((c for c in self.columns if c.key == key), None)
        if column is None:
            return self

        def value(row: Row):
            v = row.values.get(key)
            v = v.fraction if isinstance(v, Rate) else v
            return v.lower() if isinstance(v, str) else v

        present = sorted((r for r in self.rows if value(r) is not None), key=value, reverse=descending)
        rows = present + [r for r in self.rows if value(r) is None]  # empty cells last, either way
        return Table(self.name, self.title, self.sheet, self.columns, rows, self.total, self.note)


def status_label(status: str | None) -> str:
    return {"present": _("Present"), "late": _("Late"), "excused": _("Excused"), "absent": _("Absent"),
            "valid": _("Valid"), "expired": _("Expired"), "revoked": _("Revoked")}.get(status or "", "—")


def unit_name(unit: OrgUnit | None, direct: bool = False) -> str:
    if unit is None:
        return _("Total")
    return _("%(unit)s (attached directly)", unit=unit.label) if direct else unit.label


def units_table(board: Dashboard) -> Table:
    columns = [Column("code", _("Unit code"), "text", 10), Column("unit", _("Unit"), "text", 28),
               Column("enrolled", _("Enrolled"), "int"), Column("attended", _("Attended the conference"), "rate")]
    columns += [Column(f"c{c.id}", _("Completed: %(course)s", course=c.title), "rate", 16) for c in board.courses]
    columns += [Column(f"q{c.id}", _("Passed the quiz: %(course)s", course=c.title), "rate", 16)
                for c in board.quiz_courses]
    columns += [Column("valid", _("Certified (valid)"), "rate"), Column("revoked", _("Revoked"), "int"),
                Column("expired", _("Expired"), "int"), Column("remaining", _("Remaining to certify"), "rate")]

    def values(code: str, name: str, c: Counts) -> dict:
        v = {"code": code, "unit": name, "enrolled": c.enrolled, "attended": c.rate(c.attended),
             "valid": c.rate(c.valid), "revoked": c.revoked, "expired": c.expired,
             "remaining": c.rate(c.remaining)}
        v.update({f"c{course.id}": c.rate(c.completed.get(course.id, 0)) for course in board.courses})
        v.update({f"q{course.id}": c.rate(c.passed.get(course.id, 0)) for course in board.quiz_courses})
        return v

    rows = [Row(values(r.unit.code, unit_name(r.unit, r.direct), r.counts), r.unit, drill=not r.direct)
            for r in board.rows]
    total = Row(values(board.unit.code if board.unit else "", _("Total"), board.total))
    return Table("completion", _("Progress by unit"), _("Progress"), columns, rows, total)


def lagging_table(board: Dashboard) -> Table:
    columns = [Column("code", _("Unit code"), "text", 10), Column("unit", _("Unit"), "text", 26),
               Column("parent", _("Part of"), "text", 24), Column("enrolled", _("Enrolled"), "int"),
               Column("valid", _("Certified (valid)"), "rate"), Column("remaining", _("Still to go"), "int")]
    if board.days_left is not None and board.days_left > 0:
        columns.append(Column("per_week", _("Needed a week to meet the deadline"), "int", 16))
    rows = [Row({"code": lag.unit.code, "unit": lag.unit.label, "parent": lag.parent.label if lag.parent else "",
                 "enrolled": lag.counts.enrolled, "valid": lag.counts.rate(lag.counts.valid),
                 "remaining": lag.counts.remaining, "per_week": lag.per_week}, lag.unit, drill=True)
            for lag in board.lagging]
    return Table("lagging", _("Lagging units"), _("Lagging units"), columns, rows)


def sessions_table(board: Dashboard) -> Table:
    columns = [Column("session", _("Conference session"), "text", 36), Column("day", _("Date"), "date"),
               Column("present", _("Present"), "int"), Column("late", _("Late"), "int"),
               Column("excused", _("Excused"), "int"), Column("absent", _("Absent"), "int"),
               Column("attended", _("Attended, of those marked"), "rate", 16)]
    rows = [Row({"session": s.title, "day": s.starts_at, "present": s.marks.get("present", 0),
                 "late": s.marks.get("late", 0), "excused": s.marks.get("excused", 0),
                 "absent": s.marks.get("absent", 0), "attended": Rate(s.attended, s.marked)})
            for s in board.sessions]
    return Table("sessions", _("Attendance by conference session"), _("Sessions"), columns, rows)


def weekly_table(board: Dashboard) -> Table:
    columns = [Column("day", _("Week ending"), "date"),
               Column("completed", _("Completed every required course"), "int", 18),
               Column("certified", _("Certified"), "int")]
    rows = [Row({"day": p.day, "completed": p.completed, "certified": p.certified}) for p in board.weeks]
    return Table("weekly", _("Progress over time"), _("By week"), columns, rows)


def weak_table(weak: WeakTopics, index: int) -> Table:
    columns = [Column("code", _("Unit code"), "text", 10), Column("unit", _("Unit"), "text", 26)]
    columns += [Column(f"k{i}", weak.labels[cat], "share", 14) for i, cat in enumerate(weak.categories)]
    keys = {cat: f"k{i}" for i, cat in enumerate(weak.categories)}

    def values(code: str, name: str, cells: dict) -> dict:
        v = {"code": code, "unit": name}
        v.update({keys[cat]: cells.get(cat) for cat in weak.categories})
        return v

    rows = [Row(values(u.code, u.label, cells), u, drill=True) for u, cells in weak.rows]
    total = Row(values("", _("Total"), weak.total))
    return Table(f"weak-{index + 1}", _("Share of right answers by topic: %(course)s", course=weak.course.title),
                 _("Weak topics %(n)d", n=index + 1), columns, rows, total)


def officials_table(rows: list[OfficialFigures], board_courses, quiz_courses) -> Table:
    columns = [Column("name", _("Full name"), "text", 24), Column("username", _("Username"), "text", 16),
               Column("unit", _("Unit"), "text", 20), Column("position", _("Position"), "text", 24),
               Column("attendance", _("Conference"), "text"), Column("lessons", _("Lessons done"), "text")]
    for c in quiz_courses:
        columns += [Column(f"a{c.id}", _("Attempts: %(course)s", course=c.title), "int", 14),
                    Column(f"b{c.id}", _("Best score (%%): %(course)s", course=c.title), "int", 14)]
    columns += [Column("courses", _("Courses completed"), "text", 14),
                Column("certificate", _("Certificate"), "text", 14)]
    out = []
    for r in rows:
        v = {"name": r.user.full_name, "username": r.user.username,
             "unit": r.user.unit.label if r.user.unit else "", "position": r.user.position,
             "attendance": status_label(r.attendance), "lessons": f"{r.lessons_done}/{r.lessons_total}",
             "courses": f"{len(r.completed)}/{len(board_courses)}", "certificate": status_label(r.certificate)}
        for c in quiz_courses:
            attempts, best, _passed = r.quizzes.get(c.id, (0, None, False))
            v[f"a{c.id}"] = attempts
            v[f"b{c.id}"] = round(best) if best is not None else None
        out.append(Row(v))
    return Table("officials", _("Officials"), _("Officials"), columns, out)


def title_line(programme_title: str, scope: str, day: date) -> str:
    from flask_babel import format_date
    return _("%(programme)s — %(scope)s — %(date)s", programme=programme_title, scope=scope,
             date=format_date(day, "dd/MM/yyyy"))
