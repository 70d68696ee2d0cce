from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.decorators import roles_required
from ..auth.models import Role, User
from ..auth.scope import can_view_user
from ..catalog.models import Course
from ..catalog.services import course_by_slug
from ..extensions import db
from ..models_base import utcnow
from .attempt_page import attempt_page, page_questions
from .attempts import (
    AttemptNotFound, QuizError, attempts_of, finalise_expired, grade_essay, grading_queue,
    open_attempt_id, quiz_for, save_answers,
    submit_attempt,
)
from .forms import QuizSettingsForm
from .models import AttemptAnswer, AttemptState, Quiz, QuizAttempt
from .results import quiz_result
from .review import review_items, review_rights
from .settings import change_settings
from .statistics import quiz_statistics

bp = Blueprint("quizzes", __name__)


def _course_quiz(slug: str):
    course = course_by_slug(slug) or abort(404)
    quiz = quiz_for(course) or abort(404)
    return course, quiz


def _own_attempt(attempt_id: int) -> QuizAttempt:
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)  # another official's attempt does not exist for you
    return attempt


@bp.get("/courses/<slug>/quiz")
@login_required
def overview(slug: str):
    course, quiz = _course_quiz(slug)
    finalise_expired(current_user.id, quiz)
    db.session.commit()
    attempts = attempts_of(current_user.id, quiz)
    return render_template("quizzes/overview.html", course=course, quiz=quiz, attempts=attempts,
                           result=quiz_result(current_user.id, quiz),
                           open_attempt=next((a for a in attempts if a.state == AttemptState.IN_PROGRESS), None))


@bp.post("/courses/<slug>/quiz/start")
@login_required
def start(slug: str):
    course, quiz = _course_quiz(slug)
    try:
        attempt_id = open_attempt_id(current_user.id, quiz)
    except QuizError as exc:
        db.session.commit()  # expired attempts graded on the way stay graded
        flash(str(exc), "error")
        return redirect(url_for("quizzes.overview", slug=slug))
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))


@bp.get("/quiz/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    page = attempt_page(attempt_id, current_user.id)
    if page is None:
        abort(404)  # another official's attempt does not exist for you
    now = utcnow()
    if page.state != AttemptState.IN_PROGRESS or (page.deadline_at is not None and now > page.deadline_at):
        # Closed, or out of time and graded here with the answers saved before the deadline.
        finalise_expired(current_user.id, db.session.get(Quiz, page.quiz_id), now)
        db.session.commit()
        return redirect(url_for("quizzes.review", attempt_id=attempt_id))
    remaining = int((page.deadline_at - now).total_seconds()) if page.deadline_at else None
    return render_template("quizzes/attempt.html", attempt=page, questions=page_questions(page),
                           course={"slug": page.course_slug, "title": page.course_title}, remaining=remaining)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.headers.get("X-Requested-With") == "fetch"


@bp.post("/quiz/attempts/<int:attempt_id>/save")
@login_required
def save(attempt_id: int):
    now = utcnow()
    try:
        save_answers(attempt_id, request.form, now, user_id=current_user.id)
    except AttemptNotFound:
        abort(404)  # another official's attempt does not exist for you
    except QuizError as exc:
        db.session.commit()  # an attempt out of time was graded on the way
        if _wants_json():
            return jsonify(status="closed", message=str(exc),
                           redirect=url_for("quizzes.review", attempt_id=attempt_id)), 409
        flash(str(exc), "error")
        return redirect(url_for("quizzes.review", attempt_id=attempt_id))
    db.session.commit()
    if _wants_json():
        return jsonify(status="saved", saved_at=now.isoformat())
    flash(_("Your answers are saved."), "success")
    return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))


@bp.post("/quiz/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    try:
        submit_attempt(attempt_id, request.form, user_id=current_user.id)
    except AttemptNotFound:
        abort(404)
    db.session.commit()
    return redirect(url_for("quizzes.review", attempt_id=attempt_id))


@bp.get("/quiz/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if attempt.state == AttemptState.IN_PROGRESS:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    quiz = db.session.get(Quiz, attempt.quiz_id)
    course = db.session.get(Course, quiz.course_id)
    result = quiz_result(current_user.id, quiz)
    rights = review_rights(attempt, quiz, result)
    return render_template("quizzes/review.html", attempt=attempt, quiz=quiz, course=course,
                           rights=rights, items=review_items(attempt, rights), result=result)


# --- trainers -------------------------------------------------------------

@bp.get("/trainer/grading")
@roles_required(Role.TRAINER, Role.ADMIN)
def grading():
    return render_template("quizzes/grading.html", answers=grading_queue(current_user))


@bp.post("/trainer/grading/<int:answer_id>")
@roles_required(Role.TRAINER, Role.ADMIN)
def grade(answer_id: int):
    answer = db.session.get(AttemptAnswer, answer_id) or abort(404)
    if not can_view_user(current_user, db.session.get(User, answer.attempt.user_id)):
        abort(404)  # an official outside the trainer's units
    try:
        percent = float(request.form.get("percent", "").replace(",", "."))
        grade_essay(answer, percent / 100.0, request.form.get("comment", ""), current_user.id)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc) if isinstance(exc, QuizError) else _("Enter a mark from 0 to 100."), "error")
    else:
        db.session.commit()
        flash(_("Mark saved."), "success")
    return redirect(url_for("quizzes.grading"))


@bp.get("/trainer/quizzes/<slug>/statistics")
@roles_required(Role.TRAINER, Role.ADMIN)
def statistics(slug: str):
    course, quiz = _course_quiz(slug)
    return render_template("quizzes/statistics.html", course=course, quiz=quiz, stats=quiz_statistics(quiz))


@bp.route("/trainer/quizzes/<slug>/settings", methods=["GET", "POST"])
@roles_required(Role.TRAINER, Role.ADMIN)
def settings(slug: str):
    course, quiz = _course_quiz(slug)
    form = QuizSettingsForm(obj=quiz)
    if form.validate_on_submit():
        change_settings(quiz, form.settings(), current_user.id)
        db.session.commit()
        flash(_("Quiz settings saved."), "success")
        return redirect(url_for("quizzes.settings", slug=slug))
    return render_template("quizzes/settings.html", course=course, quiz=quiz, form=form)
