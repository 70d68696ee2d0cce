"""The official's own pages: their courses with progress, what is left, one course's outline."""
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..auth.models import Role
from .rules import course_page, lessons_left, progress_by_course, quiz_results

bp = Blueprint("progress", __name__)


@bp.get("/courses")
@login_required
def index():
    # A tuple of frozen rows: the course cards are a cached fragment keyed by them.
    return render_template("progress/index.html", progress=progress_by_course(current_user.id))


@bp.get("/my")
@login_required
def my_training():
    progress = progress_by_course(current_user.id)
    left = [item for item in progress if not item.complete]
    remaining = lessons_left(current_user.id) if left else {}
    quizzes = quiz_results(current_user.id) if any(item.has_quiz for item in left) else {}
    # Frozen values: the page's body is a cached fragment keyed by them.
    rows = tuple((item, remaining.get(item.course.id, ()), quizzes.get(item.course.id)) for item in progress)
    return render_template("progress/my.html", rows=rows)


@bp.get("/courses/<slug>")
@login_required
def course(slug: str):
    page = course_page(current_user.id, slug) or abort(404)
    result = quiz_results(current_user.id).get(page.id) if page.quiz_pass_percent is not None else None
    # Frozen values: the page's body is a cached fragment keyed by them.
    return render_template("progress/course.html", course=page, quiz_result=result,
                           staff=current_user.has_role(Role.TRAINER, Role.ADMIN))
