"""Completion figures for the committee, aggregated in SQL."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..auth.models import User
from ..auth.scope import officials_in_scope, sees_everything
from ..catalog.models import Course, Lesson, LessonProgress
from ..catalog.services import active_courses
from ..extensions import db
from ..orgs.models import OrgUnit
from ..orgs.services import subtree_condition
from ..progress.models import CourseCompletion


@dataclass
class UnitRow:
    unit: OrgUnit
    officials: int = 0
    completed: dict[int, int] = field(default_factory=dict)  # course id → officials who finished

    def rate(self, course_id: int) -> int:
        return round(100 * self.completed.get(course_id, 0) / self.officials) if self.officials else 0


@dataclass
class CompletionReport:
    scope: OrgUnit | None
    courses: list[Course]
    rows: list[UnitRow]
    total: UnitRow


def completion_by_unit(viewer: User) -> CompletionReport:
    """Officials and completions per unit one level below the viewer's scope.

    Two GROUP BY queries over the officials and their stored completions, then a roll-up over
    units (a few hundred at most), never over officials.
    """
    scope = None if sees_everything(viewer) else viewer.unit
    courses = active_courses()
    if scope is None:
        breakdown = list(db.session.scalars(select(OrgUnit).where(
            OrgUnit.parent_id.is_(None), OrgUnit.is_active.is_(True)).order_by(OrgUnit.name)))
        if len(breakdown) == 1:  # one province: show its districts
            scope = breakdown[0]
    if scope is not None:
        breakdown = list(db.session.scalars(select(OrgUnit).where(
            OrgUnit.parent_id == scope.id, OrgUnit.is_active.is_(True)).order_by(OrgUnit.code)))
        if not breakdown:
            breakdown = [scope]

    officials = officials_in_scope(viewer).where(User.is_active_account.is_(True)).subquery()
    per_unit = dict(db.session.execute(
        select(officials.c.unit_id, func.count()).group_by(officials.c.unit_id)).all())
    per_unit_course: dict[tuple[int, int], int] = {
        (unit_id, course_id): n for unit_id, course_id, n in db.session.execute(
            select(officials.c.unit_id, CourseCompletion.course_id, func.count())
            .join(CourseCompletion, CourseCompletion.user_id == officials.c.id)
            .group_by(officials.c.unit_id, CourseCompletion.course_id))}
    unit_paths = dict(db.session.execute(
        select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(set(per_unit)))).all()) if per_unit else {}

    rows = [UnitRow(unit) for unit in breakdown]
    total = UnitRow(scope) if scope is not None else UnitRow(None)  # type: ignore[arg-type]
    for unit_id, count in per_unit.items():
        path = unit_paths.get(unit_id, "")
        target = next((r for r in rows if path.startswith(r.unit.path)), None)
        total.officials += count
        if target is not None:
            target.officials += count
        for course in courses:
            n = per_unit_course.get((unit_id, course.id), 0)
            total.completed[course.id] = total.completed.get(course.id, 0) + n
            if target is not None:
                target.completed[course.id] = target.completed.get(course.id, 0) + n
    return CompletionReport(scope, courses, rows, total)


@dataclass
class OfficialRow:
    user: User
    completed: set[int]
    lessons_done: int


def officials_page(viewer: User, page: int, per_page: int = 50, unit_id: int | None = None,
                   query: str = ""):
    """One page of the officials the viewer may see, with their completed courses."""
    stmt = officials_in_scope(viewer)
    if unit_id is not None:
        unit = db.session.get(OrgUnit, unit_id)
        if unit is not None:
            stmt = stmt.where(User.unit_id.in_(select(OrgUnit.id).where(subtree_condition(unit))))
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(func.lower(User.full_name).like(like) | User.username.like(like))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    users = list(db.session.scalars(stmt.order_by(User.full_name, User.id)
                                    .offset((page - 1) * per_page).limit(per_page)))
    ids = [u.id for u in users]
    completed: dict[int, set[int]] = {}
    lessons: dict[int, int] = {}
    if ids:
        for user_id, course_id in db.session.execute(
                select(CourseCompletion.user_id, CourseCompletion.course_id)
                .where(CourseCompletion.user_id.in_(ids))):
            completed.setdefault(user_id, set()).add(course_id)
        lessons = dict(db.session.execute(
            select(LessonProgress.user_id, func.count()).join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id.in_(ids), Lesson.retired_at.is_(None))
            .group_by(LessonProgress.user_id)).all())
    rows = [OfficialRow(u, completed.get(u.id, set()), lessons.get(u.id, 0)) for u in users]
    return rows, total
