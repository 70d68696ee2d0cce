"""The official's own pages: their courses with progress, what is left, one course's outline."""
from flask import Blueprint, abort
from flask_login import current_user, login_required

from .. import fragments
from ..auth.models import Role
from .rules import course_page, lessons_left, progress_by_course, quiz_results

bp = Blueprint("progress", __name__)


@bp.get("/courses")
@login_required
def index():
    # A tuple of frozen rows: the page is cached, keyed by them (learnhub.fragments.page).
    return fragments.page("progress/index.html", current_user.role, {"full_name": current_user.full_name},
                          progress=progress_by_course(current_user.id))


@bp.get("/my")
@login_required
def my_training():
    progress = progress_by_course(current_user.id)
    left = [item for item in progress if not item.complete]
    remaining = lessons_left(current_user.id) if left else {}
    quizzes = quiz_results(current_user.id) if any(item.has_quiz for item in left) else {}
    # Frozen values: the page is cached, keyed by them (learnhub.fragments.page).
    rows = tuple((item, remaining.get(item.course.id, ()), quizzes.get(item.course.id)) for item in progress)
    return fragments.page("progress/my.html", current_user.role, {}, rows=rows)


@bp.get("/courses/<slug>")
@login_required
def course(slug: str):
    page = course_page(current_user.id, slug) or abort(404)
    result = quiz_results(current_user.id).get(page.id) if page.quiz_pass_percent is not None else None
    # Frozen values: the page is cached, keyed by them (learnhub.fragments.page).
    return fragments.page("progress/course.html", current_user.role, {}, course=page, quiz_result=result,
                          staff=current_user.has_role(Role.TRAINER, Role.ADMIN))
