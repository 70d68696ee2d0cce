"""The official's own pages: their courses with progress, what is left, one course's outline."""
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..catalog.services import course_by_slug, done_lesson_ids, lesson_outline
from ..quizzes.attempts import quiz_for
from ..quizzes.results import quiz_result
from .rules import lessons_left, progress_by_course, quiz_results

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
    course = course_by_slug(slug) or abort(404)
    outline = lesson_outline(course)
    done = done_lesson_ids(current_user.id, course.id)
    next_lesson = next((row for row in outline if row[0] not in done), None)
    quiz = quiz_for(course)
    result = quiz_result(current_user.id, quiz) if quiz else None
    return render_template("progress/course.html", course=course, outline=outline, done=done,
                           next_lesson=next_lesson, quiz=quiz, quiz_result=result)
