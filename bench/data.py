"""Synthetic data at province scale (5,000 officials in about 230 communes) and at country
scale (200,000 officials in about 10,000 communes, PostgreSQL).

The schema comes from `flask db upgrade`, the courses from `flask learnhub sync`, the
province's real units from `flask learnhub load-units`; officials, their progress and a
conference session are written here in bulk with SQLAlchemy Core (a loop of ORM objects
would take minutes at country scale). A final `flask learnhub sync` stores the course
completions the reports count, through the app's own definition.

Passwords: every generated official shares one cheap PBKDF2 hash (1 iteration), so that
the bench can log hundreds of them in quickly to get their session cookies; those logins
are not measured. The login scenario uses its own account, hashed by the app itself.
"""
from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, case, cast, create_engine, func, insert, literal, literal_column, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import String
from werkzeug.security import generate_password_hash

from .common import PASSWORD, app_env, flask_cli

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Hữu", "Thanh", "Quốc", "Thị Thanh"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương", "Lan", "Linh", "Long", "Mai",
         "Nam", "Nga", "Phong", "Quang", "Sơn", "Thảo", "Trang", "Tuấn", "Việt", "Yến"]
POSITIONS = ["Chủ tịch UBND", "Phó Chủ tịch UBND", "Công chức Văn phòng - Thống kê", "Công chức Tư pháp - Hộ tịch",
             "Công chức Địa chính - Xây dựng", "Công chức Tài chính - Kế toán", "Công chức Văn hóa - Xã hội"]
CHECKIN_CODE = "BENCH7"
POOL_PREFIX = "cb"
COUNTRY_PREFIX = "cn"
COUNTRY_PROGRAMME = "bench-country"


def tables():
    from learnhub.models import Base
    return Base.metadata.tables


def utc_now():
    from learnhub.models_base import utcnow
    return utcnow()


def _ts(value):
    from learnhub.models_base import UTCDateTime
    return literal(value, UTCDateTime())


def cheap_hash() -> str:
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")


def app_hash() -> str:
    """The hash the app itself stores when an official sets this password."""
    from learnhub.auth.models import User
    user = User()
    user.set_password(PASSWORD)
    return user.password_hash


def engine_for(url: str) -> Engine:
    import learnhub  # noqa: F401 - registers the SQLite pragmas the app uses
    from learnhub.config import normalise_database_url
    return create_engine(normalise_database_url(url))


def official_rows(prefix: str, count: int, unit_ids: list[int], password_hash: str) -> list[dict]:
    rng = random.Random(count)
    rows = []
    for i in range(1, count + 1):
        rows.append({
            "username": f"{prefix}{i:06d}", "role": "official", "unit_id": unit_ids[i % len(unit_ids)],
            "full_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "position": rng.choice(POSITIONS), "email": f"{prefix}{i}@xa.example.vn", "phone": "",
            "password_hash": password_hash, "is_active": True, "must_change_password": False,
        })
    return rows


def insert_in_batches(conn, table, rows: list[dict], batch: int = 10_000) -> None:
    for start in range(0, len(rows), batch):
        conn.execute(insert(table), rows[start:start + batch])


def add_progress(conn, prefix: str) -> None:
    """Each official finished (id mod 9) lessons, in order, of one course (id mod 3):
    a ninth finished everything and passed the quiz, a ninth finished and failed it once."""
    t = tables()
    user, lesson, course, quiz = t["user_account"], t["lesson"], t["course"], t["quiz"]
    now = utc_now()
    courses = select(course.c.id, (func.row_number().over(order_by=(course.c.position, course.c.slug)) - 1)
                     .label("k")).where(course.c.retired_at.is_(None)).subquery()
    n_courses = conn.scalar(select(func.count()).select_from(courses))
    lessons = select(lesson.c.id, lesson.c.course_id, func.row_number().over(
        partition_by=lesson.c.course_id, order_by=(lesson.c.position, lesson.c.slug)).label("r")
    ).where(lesson.c.retired_at.is_(None)).subquery()
    officials = and_(user.c.role == "official", user.c.username.like(prefix + "%"))
    conn.execute(insert(t["lesson_progress"]).from_select(
        ["user_id", "lesson_id", "completed_at"],
        select(user.c.id, lessons.c.id, _ts(now))
        .join(courses, courses.c.k == user.c.id % n_courses)
        .join(lessons, and_(lessons.c.course_id == courses.c.id, lessons.c.r <= user.c.id % 9))
        .where(officials)))
    for remainder, percent, passed in ((8, 85.0, True), (7, 50.0, False)):
        conn.execute(insert(t["quiz_attempt"]).from_select(
            ["user_id", "quiz_id", "number", "state", "started_at", "submitted_at", "graded_at", "score",
             "max_score", "percent", "passed", "pass_percent", "review"],
            select(user.c.id, quiz.c.id, literal(1), literal("graded"), _ts(now - timedelta(minutes=20)),
                   _ts(now), _ts(now), literal(percent / 10), literal(10.0), literal(percent), literal(passed),
                   literal(70.0), literal("after_attempt"))
            .join(courses, courses.c.k == user.c.id % n_courses)
            .join(quiz, quiz.c.course_id == courses.c.id)
            .where(officials, user.c.id % 9 == remainder)))


def set_paths(conn) -> None:
    """path = parent's path + own id, level by level from the top (the app's materialised path)."""
    unit = tables()["org_unit"]
    conn.execute(update(unit).where(unit.c.parent_id.is_(None))
                 .values(path="/" + cast(unit.c.id, String) + "/", depth=0))
    parent = unit.alias("parent")
    for depth in (1, 2):
        parent_path = select(parent.c.path).where(parent.c.id == unit.c.parent_id).scalar_subquery()
        conn.execute(update(unit).where(unit.c.level == ("district" if depth == 1 else "commune"))
                     .values(path=parent_path + cast(unit.c.id, String) + "/", depth=depth))


# --- province -------------------------------------------------------------------------


@dataclass
class Province:
    env: dict
    database_url: str
    officials: int
    communes: int
    pool: list[str]            # officials that start, submit and check in once each
    reader: str                # an official reading lessons and the catalogue
    login_user: str            # an official with a password hashed by the app (Argon2id)
    committee: str             # committee member over the whole province
    checkin_code: str
    quiz_course: str


def province_units_csv(district_codes: list[str], existing: dict[str, int], communes: int) -> str:
    """Extra communes so that the province has about ``communes`` of them."""
    counts = dict(existing)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "level", "kind", "parent_code"])
    total = sum(counts.values())
    i = 0
    while total < communes:
        district = district_codes[i % len(district_codes)]
        counts[district] = counts.get(district, 0) + 1
        n = counts[district]
        writer.writerow([f"B{district}-{n:03d}", f"Số {n}", "commune", "Xã", district])
        total += 1
        i += 1
    return out.getvalue()


def build_province(instance: str, database_url: str, log_dir: str, officials: int = 5000,
                   communes: int = 230, pool: int = 1500) -> Province:
    env = app_env(instance, database_url)
    engine = engine_for(database_url)
    if engine.dialect.name == "postgresql":
        ensure_pg_database(database_url)
        with engine.begin() as conn:  # the province is rebuilt on every run
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    flask_cli(env, "db", "upgrade", log_dir=log_dir)
    flask_cli(env, "learnhub", "sync", log_dir=log_dir)
    flask_cli(env, "learnhub", "load-units", log_dir=log_dir)  # Bắc Giang 2021
    t = tables()
    unit = t["org_unit"]
    with engine.connect() as conn:
        districts = [r.code for r in conn.execute(select(unit.c.code).where(unit.c.level == "district")
                                                   .order_by(unit.c.code))]
        parent = unit.alias("parent")
        existing = dict(conn.execute(select(parent.c.code, func.count()).join(unit, unit.c.parent_id == parent.c.id)
                                     .where(unit.c.level == "commune").group_by(parent.c.code)).all())
    extra = Path(instance) / "bench-units.csv"
    extra.write_text(province_units_csv(districts, existing, communes), encoding="utf-8")
    flask_cli(env, "learnhub", "load-units", str(extra), log_dir=log_dir)

    now = utc_now()
    user = t["user_account"]
    with engine.begin() as conn:
        province_id = conn.scalar(select(unit.c.id).where(unit.c.level == "province"))
        commune_ids = list(conn.scalars(select(unit.c.id).where(unit.c.level == "commune").order_by(unit.c.id)))
        insert_in_batches(conn, user, official_rows(POOL_PREFIX, officials, commune_ids, cheap_hash()))
        conn.execute(insert(user), [
            {"username": "bench-login", "full_name": "Cán bộ Đăng Nhập", "role": "official",
             "unit_id": commune_ids[0], "password_hash": app_hash()},
            {"username": "bench-committee", "full_name": "Ban Chỉ đạo", "role": "committee",
             "unit_id": province_id, "password_hash": cheap_hash()},
        ])
        add_progress(conn, POOL_PREFIX)
        # A programme for the whole province and a conference session open now.
        programme_id = conn.execute(insert(t["training_programme"]).values(
            code="bench-2026", title="Tập huấn ISO 2026 — cấp xã", description="", requires_attendance=True,
            validity_months=0, issuer_name="Ban Chỉ đạo ISO tỉnh").returning(t["training_programme"].c.id)).scalar_one()
        course_ids = list(conn.scalars(select(t["course"].c.id).where(t["course"].c.retired_at.is_(None))))
        conn.execute(insert(t["programme_course"]), [{"programme_id": programme_id, "course_id": c} for c in course_ids])
        conn.execute(insert(t["programme_unit"]).values(programme_id=programme_id, unit_id=province_id))
        conn.execute(insert(t["training_session"]).values(
            programme_id=programme_id, title="Hội nghị tập huấn ISO 9001 toàn tỉnh", unit_id=province_id,
            venue="Hội trường tỉnh", starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(hours=6),
            checkin_code=CHECKIN_CODE, grace_minutes=30))
        quiz_course = conn.scalar(select(t["course"].c.slug).join(t["quiz"], t["quiz"].c.course_id == t["course"].c.id)
                                  .order_by(t["course"].c.position).limit(1))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    flask_cli(env, "learnhub", "sync", log_dir=log_dir)  # stores course completions
    return Province(env=env, database_url=database_url, officials=officials, communes=len(commune_ids),
                    pool=[f"{POOL_PREFIX}{i:06d}" for i in range(1, min(pool, officials - 1) + 1)],
                    reader=f"{POOL_PREFIX}{officials:06d}", login_user="bench-login",
                    committee="bench-committee", checkin_code=CHECKIN_CODE, quiz_course=quiz_course)


# --- country (PostgreSQL) ---------------------------------------------------------------


@dataclass
class Country:
    env: dict
    officials: int
    units: int
    admin: str
    committee: str           # committee member of one province
    built: bool              # False: kept from an earlier run
    seconds: float           # time spent filling (or checking) the database
    sync_seconds: float      # `flask learnhub sync` with nothing changed, at this scale


def ensure_pg_database(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def _country_ready(engine: Engine, officials: int) -> bool:
    t = tables()
    user = t["user_account"]
    try:
        with engine.connect() as conn:
            count = conn.scalar(select(func.count()).select_from(user).where(
                user.c.role == "official", user.c.username.like(COUNTRY_PREFIX + "%")))
            viewers = conn.scalar(select(func.count()).select_from(user).where(
                user.c.username.in_(["bench-admin", "bench-committee"])))
            progress = conn.scalar(select(func.count()).select_from(t["lesson_progress"]))
            certified = conn.scalar(select(func.count()).select_from(t["certificate"]).join(
                t["training_programme"], t["training_programme"].c.id == t["certificate"].c.programme_id).where(
                t["training_programme"].c.code == COUNTRY_PROGRAMME))
    except Exception:  # no schema yet, or an older one
        return False
    return count == officials and viewers == 2 and progress > 0 and certified > 0


def build_country(instance: str, database_url: str, log_dir: str, officials: int = 200_000,
                  provinces: int = 63, districts_per_province: int = 11, communes_per_district: int = 15,
                  rebuild: bool = False, say=print) -> Country:
    began = time.perf_counter()
    ensure_pg_database(database_url)
    env = app_env(instance, database_url)
    engine = engine_for(database_url)
    flask_cli(env, "db", "upgrade", log_dir=log_dir)
    if not rebuild and _country_ready(engine, officials):
        sync_began = time.perf_counter()
        flask_cli(env, "learnhub", "sync", log_dir=log_dir)
        sync_seconds = time.perf_counter() - sync_began
        with engine.connect() as conn:
            units = conn.scalar(select(func.count()).select_from(tables()["org_unit"]))
        engine.dispose()
        return Country(env, officials, units, "bench-admin", "bench-committee", False,
                       time.perf_counter() - began, sync_seconds)

    say(f"  filling {officials:,} officials in {provinces * districts_per_province * communes_per_district:,} "
        f"communes (kept for later runs)...")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    flask_cli(env, "db", "upgrade", log_dir=log_dir)
    flask_cli(env, "learnhub", "sync", log_dir=log_dir)
    t = tables()
    unit, user = t["org_unit"], t["user_account"]
    with engine.begin() as conn:
        insert_in_batches(conn, unit, [
            {"code": f"P{p:02d}", "name": f"Tỉnh {p:02d}", "level": "province", "kind": "Tỉnh"}
            for p in range(1, provinces + 1)])
        ids = dict(conn.execute(select(unit.c.code, unit.c.id)).all())
        insert_in_batches(conn, unit, [
            {"code": f"P{p:02d}-{d:02d}", "name": f"Huyện {p:02d}-{d:02d}", "level": "district", "kind": "Huyện",
             "parent_id": ids[f"P{p:02d}"]}
            for p in range(1, provinces + 1) for d in range(1, districts_per_province + 1)])
        ids = dict(conn.execute(select(unit.c.code, unit.c.id)).all())
        insert_in_batches(conn, unit, [
            {"code": f"P{p:02d}-{d:02d}-{c:02d}", "name": f"Xã {p:02d}-{d:02d}-{c:02d}", "level": "commune",
             "kind": "Xã", "parent_id": ids[f"P{p:02d}-{d:02d}"]}
            for p in range(1, provinces + 1) for d in range(1, districts_per_province + 1)
            for c in range(1, communes_per_district + 1)])
        set_paths(conn)
        commune_ids = list(conn.scalars(select(unit.c.id).where(unit.c.level == "commune").order_by(unit.c.id)))
        step = time.perf_counter()
        insert_in_batches(conn, user, official_rows(COUNTRY_PREFIX, officials, commune_ids, cheap_hash()))
        say(f"  {officials:,} officials inserted in {time.perf_counter() - step:.1f} s")
        conn.execute(insert(user), [
            {"username": "bench-admin", "full_name": "Quản trị", "role": "admin", "unit_id": None,
             "password_hash": cheap_hash()},
            {"username": "bench-committee", "full_name": "Ban Chỉ đạo tỉnh 01", "role": "committee",
             "unit_id": ids["P01"], "password_hash": cheap_hash()},
        ])
        step = time.perf_counter()
        add_progress(conn, COUNTRY_PREFIX)
        say(f"  lesson progress and quiz attempts inserted in {time.perf_counter() - step:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    step = time.perf_counter()
    flask_cli(env, "learnhub", "sync", log_dir=log_dir)  # stores the course completions
    say(f"  course completions stored by `flask learnhub sync` in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    with engine.begin() as conn:
        add_full_progress(conn)
    say(f"  one official in four through every course, inserted in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    with engine.begin() as conn:
        add_country_programme(conn)
        certify_country(conn)
    say(f"  the country's programme, its 693 conference sessions, attendance and certificates inserted in "
        f"{time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    flask_cli(env, "learnhub", "recount-reports", log_dir=log_dir)  # the dashboard's stored counts
    say(f"  the dashboard's counts stored by `flask learnhub recount-reports` in {time.perf_counter() - step:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
        units = conn.scalar(select(func.count()).select_from(unit))
    engine.dispose()
    sync_began = time.perf_counter()
    flask_cli(env, "learnhub", "sync", log_dir=log_dir)
    sync_seconds = time.perf_counter() - sync_began
    return Country(env, officials, units, "bench-admin", "bench-committee", True,
                   time.perf_counter() - began, sync_seconds)


def add_country_programme(conn) -> None:
    """A programme over the whole country (every province, every course, attendance required,
    valid 24 months, a deadline in two months); one conference session per district eight
    weeks ago, nine officials in ten marked (present, present, late, excused, absent)."""
    t = tables()
    user, unit = t["user_account"], t["org_unit"]
    now = utc_now()
    programme_id = conn.execute(insert(t["training_programme"]).values(
        code=COUNTRY_PROGRAMME, title="Tập huấn ISO 9001:2015 — toàn quốc", description="",
        requires_attendance=True, deadline=(now + timedelta(days=60)).date(), validity_months=24,
        issuer_name="Ban Chỉ đạo ISO").returning(t["training_programme"].c.id)).scalar_one()
    conn.execute(insert(t["programme_course"]).from_select(
        ["programme_id", "course_id"], select(literal(programme_id), t["course"].c.id)
        .where(t["course"].c.retired_at.is_(None))))
    conn.execute(insert(t["programme_unit"]).from_select(
        ["programme_id", "unit_id"], select(literal(programme_id), unit.c.id).where(unit.c.level == "province")))
    held = now - timedelta(days=56)
    conn.execute(insert(t["training_session"]).from_select(
        ["programme_id", "title", "unit_id", "venue", "starts_at", "ends_at", "checkin_code", "grace_minutes",
         "checkin_secret", "rotate_seconds", "created_at"],
        select(literal(programme_id), literal("Hội nghị ") + unit.c.name, unit.c.id, literal("Hội trường"),
               _ts(held), _ts(held + timedelta(hours=4)), literal("C") + cast(unit.c.id, String), literal(30),
               func.md5(literal("s") + cast(unit.c.id, String)), literal(0), _ts(held))
        .where(unit.c.level == "district")))
    commune = unit.alias("commune")
    session = t["training_session"]
    statuses = ["present", "present", "late", "excused", "absent"]
    status = case(*[(user.c.id % 5 == i, s) for i, s in enumerate(statuses)], else_="present")
    conn.execute(insert(t["attendance_record"]).from_select(
        ["session_id", "user_id", "status", "source", "note", "recorded_at"],
        select(session.c.id, user.c.id, status, literal("roll_call"), literal(""), _ts(held))
        .join(commune, commune.c.id == user.c.unit_id).join(session, session.c.unit_id == commune.c.parent_id)
        .where(user.c.role == "official", user.c.username.like(COUNTRY_PREFIX + "%"), user.c.id % 10 != 0,
               session.c.programme_id == programme_id)))


def add_full_progress(conn) -> None:
    """One official in four reads every lesson and passes every quiz, on a day spread over the
    eight weeks since the conference. Written after `learnhub sync` stored the other
    completions, with their course completions, as the sync would store them by
    ``progress/rules.py``: a sync finding tens of thousands of new completions at once hands
    each official to the certificate rule one by one, which is not what this bench measures."""
    t = tables()
    user, lesson, quiz, course = t["user_account"], t["lesson"], t["quiz"], t["course"]
    now = utc_now()
    every = and_(user.c.role == "official", user.c.username.like(COUNTRY_PREFIX + "%"), user.c.id % 4 == 0)
    progress, attempt = t["lesson_progress"], t["quiz_attempt"]
    day = (user.c.id % 50) * text("interval '1 day'")
    conn.execute(insert(progress).from_select(
        ["user_id", "lesson_id", "completed_at"],
        select(user.c.id, lesson.c.id, _ts(now) - day).join(lesson, lesson.c.retired_at.is_(None))
        .where(every, ~select(progress.c.id).where(progress.c.user_id == user.c.id,
                                                   progress.c.lesson_id == lesson.c.id).exists())))
    conn.execute(insert(attempt).from_select(
        ["user_id", "quiz_id", "number", "state", "started_at", "submitted_at", "graded_at", "score",
         "max_score", "percent", "passed", "pass_percent", "review"],
        select(user.c.id, quiz.c.id,
               select(func.coalesce(func.max(attempt.c.number), 0) + 1)
               .where(attempt.c.user_id == user.c.id, attempt.c.quiz_id == quiz.c.id).scalar_subquery(),
               literal("graded"), _ts(now) - day, _ts(now) - day, _ts(now) - day,
               literal(9.0), literal(10.0), literal(90.0), literal(True), literal(70.0), literal("after_attempt"))
        .join(quiz, literal(True))
        .where(every, ~select(attempt.c.id).where(attempt.c.user_id == user.c.id, attempt.c.quiz_id == quiz.c.id,
                                                  attempt.c.passed.is_(True)).exists())))
    completion = t["course_completion"]
    conn.execute(insert(completion).from_select(
        ["user_id", "course_id", "completed_at"],
        select(user.c.id, course.c.id, _ts(now) - day).join(course, course.c.retired_at.is_(None))
        .where(every, ~select(completion.c.id).where(completion.c.user_id == user.c.id,
                                                     completion.c.course_id == course.c.id).exists())))


def certify_country(conn) -> None:
    """After `learnhub sync` stored the completions: completion dates spread over the weeks since
    the conference, and certificates for the officials who attended and completed every
    course (a few since expired, a few revoked), as the programme's rule would have issued them."""
    t = tables()
    user, completion, certificate = t["user_account"], t["course_completion"], t["certificate"]
    programme_id = conn.scalar(select(t["training_programme"].c.id).where(
        t["training_programme"].c.code == COUNTRY_PROGRAMME))
    now = utc_now()
    conn.execute(update(completion).values(
        completed_at=_ts(now) - (completion.c.user_id % 50) * text("interval '1 day'")))
    courses = conn.scalar(select(func.count()).select_from(t["programme_course"]).where(
        t["programme_course"].c.programme_id == programme_id))
    complete = (select(completion.c.user_id).group_by(completion.c.user_id)
                .having(func.count() == courses).subquery())
    attended = (select(t["attendance_record"].c.user_id)
                .where(t["attendance_record"].c.status.in_(["present", "late"])).subquery())
    issued = _ts(now) - (user.c.id % 50) * text("interval '1 day'")
    conn.execute(insert(certificate).from_select(
        ["code", "user_id", "programme_id", "issued_at", "expires_at", "revoked_at", "revoke_reason",
         "override_reason", "badge_salt", "snapshot"],
        select(literal("BC") + cast(user.c.id, String), user.c.id, literal(programme_id), issued,
               case((user.c.id % 36 == 0, _ts(now - timedelta(days=1))), else_=issued + text("interval '24 months'")),
               case((user.c.id % 44 == 0, _ts(now)), else_=None), literal(""), literal(""),
               func.md5(cast(user.c.id, String)), literal_column("'{}'::json"))
        .where(user.c.id.in_(select(complete.c.user_id)), user.c.id.in_(select(attended.c.user_id)))))


def count_officials_ms(database_url: str, repeats: int = 15) -> float:
    """Median time of the cheapest query such a report could be: a count of the officials."""
    import statistics
    engine = engine_for(database_url)
    user = tables()["user_account"]
    stmt = select(func.count()).select_from(user).where(user.c.role == "official")
    samples = []
    with engine.connect() as conn:
        conn.scalar(stmt)
        for _ in range(repeats):
            began = time.perf_counter()
            conn.scalar(stmt)
            samples.append(time.perf_counter() - began)
    engine.dispose()
    return statistics.median(samples) * 1000

