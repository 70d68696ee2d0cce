"""The official's own pages: their courses with progress, what is left, one course's outline."""
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..catalog.services import course_by_slug, done_lesson_ids, lesson_outline
from ..quizzes.attempts import quiz_for
from ..quizzes.results import quiz_result
from .rules import progress_by_course

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
    remaining, quizzes = {}, {}
    for item in progress:
        if not item.complete:
            done = done_lesson_ids(current_user.id, item.course.id)
            remaining[item.course.id] = [row for row in lesson_outline(item.course) if row[0] not in done]
            quiz = quiz_for(item.course) if item.has_quiz else None
            if quiz is not None:
                quizzes[item.course.id] = quiz_result(current_user.id, quiz)
    return render_template("progress/my.html", progress=progress, remaining=remaining, quizzes=quizzes)


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
