"""Small builders for test data; each flushes and commits so live servers see it."""
from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from learnhub.auth.models import User
from learnhub.extensions import db
from learnhub.orgs.models import OrgUnit
from learnhub.orgs.services import load_units_csv

PASSWORD = "mat-khau-thu-nghiem"
UNITS_CSV = Path(__file__).resolve().parent.parent / "learnhub" / "orgs" / "data" / "bac-giang-2021.csv"
_counter = itertools.count(1)
_HASH: dict[str, str] = {}

# Default unit per role: officials in Thị trấn Vôi (Lạng Giang), committee province-wide.
DEFAULT_UNIT = {"official": "D217-01", "committee": "24", "trainer": None, "admin": None}


def _password_hash() -> str:
    if PASSWORD not in _HASH:  # scrypt once per run, not once per user
        _HASH[PASSWORD] = generate_password_hash(PASSWORD, method="scrypt")
    return _HASH[PASSWORD]


def load_demo_units() -> dict[str, OrgUnit]:
    load_units_csv(UNITS_CSV.read_text(encoding="utf-8"))
    db.session.commit()
    return {u.code: u for u in db.session.scalars(select(OrgUnit))}


def unit(code: str) -> OrgUnit:
    found = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    assert found is not None, f"unit {code} not loaded"
    return found


def make_user(role: str = "official", unit_code: str | None = None, username: str | None = None,
              full_name: str | None = None, **fields) -> User:
    n = next(_counter)
    code = unit_code if unit_code is not None else DEFAULT_UNIT.get(role)
    user = User(username=username or f"{role}-{n}", full_name=full_name or f"Người dùng {n}",
                role=role, unit=unit(code) if code else None, password_hash=_password_hash(), **fields)
    db.session.add(user)
    db.session.commit()
    return user


_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
_MIDDLE = ("Văn", "Thị", "Đức", "Thu", "Minh", "Quang", "Thanh", "Hữu", "Ngọc", "Xuân")
_GIVEN = ("Hùng", "Lan", "Hương", "Dũng", "Thảo", "Tuấn", "Hà", "Sơn", "Hạnh", "Phúc", "Trang", "Đạt", "Yến")
_POSITIONS = ("Chủ tịch UBND", "Phó Chủ tịch UBND", "Văn phòng - Thống kê", "Tư pháp - Hộ tịch",
              "Địa chính - Xây dựng", "Tài chính - Kế toán", "Văn hóa - Xã hội")


def make_officials(count: int, unit_codes: list[str], **fields) -> list[User]:
    """``count`` officials with varied Vietnamese names, spread over ``unit_codes``, in one commit."""
    units = [unit(code) for code in unit_codes]
    users = []
    for i in range(count):
        n = next(_counter)
        name = f"{_SURNAMES[i % 12]} {_MIDDLE[(i // 12) % 10]} {_GIVEN[(i // 120 + i) % 13]}"
        users.append(User(username=f"cb-{n}", full_name=name, role="official", unit=units[i % len(units)],
                          position=_POSITIONS[i % len(_POSITIONS)], password_hash=_password_hash(), **fields))
    db.session.add_all(users)
    db.session.commit()
    return users
