"""Attempts: start → save → submit → graded, and essays marked by a trainer. Callers commit.

Grading an attempt is progress: once it is graded the ``progress_recorded``
signal is sent (see ``learnhub.signals``), so completion and certificates follow
in the same transaction.
"""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.models import User
from ..auth.scope import user_condition
from ..catalog.models import Course
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..signals import progress_recorded
from .grading import grade
from .models import AttemptAnswer, AttemptState, Question, Quiz, QuizAttempt


SCORED = {"multichoice", "multiresponse", "truefalse", "shortanswer", "numerical", "matching", "essay"}


class QuizError(ValueError):
    """Shown to the learner as is (already translated)."""


def quiz_for(course: Course) -> Quiz | None:
    return db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))


def _draw(quiz: Quiz, rng: random.Random) -> list[Question]:
    pool = db.session.scalars(select(Question).where(
        Question.course_id == quiz.course_id, Question.retired_at.is_(None),
        Question.qtype.in_(SCORED)).order_by(Question.position)).all()
    if quiz.per_category:
        chosen = []
        for category, n in quiz.per_category.items():
            candidates = [q for q in pool if q.category == category]
            chosen.extend(rng.sample(candidates, min(n, len(candidates))))
    else:
        chosen = rng.sample(pool, min(quiz.questions_per_attempt, len(pool)))
    if quiz.shuffle_questions:
        rng.shuffle(chosen)
    else:
        chosen.sort(key=lambda q: q.position)
    return chosen


def _answer_order(question: Question, shuffle: bool, rng: random.Random) -> list[int]:
    if question.qtype in ("multichoice", "multiresponse"):
        order = list(range(len(question.data.get("answers", []))))
    elif question.qtype == "matching":
        order = list(range(len(question.data.get("rights", []))))
    else:
        return []
    if shuffle:
        rng.shuffle(order)
    return order


def attempt_with_questions(attempt_id: int) -> QuizAttempt | None:
    """The attempt with its answers and their questions loaded in two queries (the attempt
    page shows them all; loaded one by one they cost a query per question)."""
    return db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id).options(
        selectinload(QuizAttempt.answers).joinedload(AttemptAnswer.question)))


def attempts_of(user_id: int, quiz: Quiz) -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id).order_by(QuizAttempt.number)))


def finalise_expired(user_id: int, quiz: Quiz, now: datetime | None = None) -> None:
    """Grade attempts whose time ran out while the official was away."""
    now = now or utcnow()
    for attempt in attempts_of(user_id, quiz):
        if attempt.state == AttemptState.IN_PROGRESS and attempt.deadline_at is not None and now > attempt.deadline_at:
            finish_attempt(attempt, now)


def start_attempt(user_id: int, quiz: Quiz, now: datetime | None = None, seed: int | None = None) -> QuizAttempt:
    """Resume the attempt in progress, or start the next one if any are left."""
    now = now or utcnow()
    finalise_expired(user_id, quiz, now)
    for _ in range(3):
        attempts = attempts_of(user_id, quiz)
        open_attempt = next((a for a in attempts if a.state == AttemptState.IN_PROGRESS), None)
        if open_attempt is not None:
            return open_attempt
        if quiz.max_attempts and len(attempts) >= quiz.max_attempts:
            raise QuizError(_l("You have used all %(n)d attempts of this quiz.", n=quiz.max_attempts))
        rng = random.Random(seed)
        questions = _draw(quiz, rng)
        if not questions:
            raise QuizError(_l("This quiz has no questions yet."))
        number = (max((a.number for a in attempts), default=0)) + 1
        deadline = now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
        try:
            # A savepoint: if a concurrent request took this number, only this insert is undone.
            with db.session.begin_nested():
                attempt = QuizAttempt(user_id=user_id, quiz_id=quiz.id, number=number, started_at=now,
                                      deadline_at=deadline, pass_percent=quiz.pass_percent, review=quiz.review,
                                      max_score=float(len(questions)))
                db.session.add(attempt)
                db.session.flush()
                for slot, question in enumerate(questions, start=1):
                    db.session.add(AttemptAnswer(attempt_id=attempt.id, slot=slot, question_id=question.id,
                                                 order=_answer_order(question, quiz.shuffle_answers, rng)))
                db.session.flush()
            return attempt
        except IntegrityError:
            db.session.expire_all()
            continue
    raise QuizError(_l("The quiz is busy; try again in a moment."))


def _response_from_form(question: Question, order: list[int], form, slot: int) -> dict | None:
    """Turn the posted fields of one slot into a response in the bank's own terms."""
    name = f"q{slot}"
    qtype = question.qtype
    if qtype == "multichoice":
        value = form.get(name)
        if value is None or not value.isdigit() or int(value) >= len(order):
            return None
        return {"choice": order[int(value)]}
    if qtype == "multiresponse":
        chosen = [order[int(v)] for v in form.getlist(name) if v.isdigit() and int(v) < len(order)]
        return {"choices": sorted(set(chosen))}
    if qtype == "truefalse":
        value = form.get(name)
        return {"value": value == "true"} if value in ("true", "false") else None
    if qtype in ("shortanswer", "numerical", "essay"):
        value = form.get(name)
        return None if value is None else {"text": value[:20000]}
    if qtype == "matching":
        rights = question.data.get("rights", [])
        matches = {}
        for i in range(len(question.data.get("pairs", []))):
            value = form.get(f"{name}-m{i}")
            if value and value.isdigit() and int(value) < len(order):
                matches[str(i)] = rights[order[int(value)]]
        return {"matches": matches}
    return None


def _check_open(attempt: QuizAttempt, now: datetime) -> None:
    if attempt.state != AttemptState.IN_PROGRESS:
        raise QuizError(_l("This attempt has already been submitted."))
    if attempt.deadline_at is not None and now > attempt.deadline_at:
        finish_attempt(attempt, now)
        raise QuizError(_l("Time is up: the attempt was submitted with the answers saved before the deadline."))


def save_answers(attempt: QuizAttempt, form, now: datetime | None = None) -> int:
    """Store the responses present in the form; returns how many slots changed."""
    now = now or utcnow()
    _check_open(attempt, now)
    changed = 0
    for answer in attempt.answers:
        # Every slot on the page posts a hidden q<slot>-shown marker, so an empty
        # response (all boxes unticked) is told apart from a slot not sent at all.
        if f"q{answer.slot}-shown" not in form:
            continue
        response = _response_from_form(answer.question, answer.order, form, answer.slot)
        if response != answer.response:
            answer.response = response
            answer.saved_at = now
            changed += 1
    db.session.flush()
    return changed


def finish_attempt(attempt: QuizAttempt, now: datetime | None = None) -> bool:
    """Submit and grade once. Returns False if another request already did.

    The state change is a conditional UPDATE, so of many simultaneous
    submits exactly one proceeds to grading; the others see the result.
    """
    now = now or utcnow()
    claimed = db.session.execute(
        update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.IN_PROGRESS.value)
        .values(state=AttemptState.GRADING.value, submitted_at=min(now, attempt.deadline_at) if attempt.deadline_at else now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(attempt)
    if claimed != 1:
        return False
    for answer in attempt.answers:
        outcome = grade(answer.question.qtype, answer.question.data, answer.response)
        answer.fraction = outcome.fraction
        answer.needs_grading = outcome.fraction is None
    _update_result(attempt, now)
    return True


def _update_result(attempt: QuizAttempt, now: datetime) -> None:
    pending = any(a.needs_grading for a in attempt.answers)
    score = sum(a.fraction or 0.0 for a in attempt.answers)
    attempt.score = score
    attempt.percent = round(100.0 * score / attempt.max_score, 2) if attempt.max_score else 0.0
    if pending:
        attempt.state, attempt.passed, attempt.graded_at = AttemptState.NEEDS_GRADING.value, None, None
    else:
        attempt.state, attempt.graded_at = AttemptState.GRADED.value, now
        attempt.passed = attempt.percent >= attempt.pass_percent - 1e-9
    db.session.flush()
    if attempt.state == AttemptState.GRADED:
        record("quiz.result", "quiz_attempt", attempt.id, subject_id=attempt.user_id,
               data={"quiz": attempt.quiz_id, "number": attempt.number, "percent": attempt.percent,
                     "passed": attempt.passed})
        quiz = db.session.get(Quiz, attempt.quiz_id)
        progress_recorded.send("quizzes", user_id=attempt.user_id, course_id=quiz.course_id)


def submit_attempt(attempt: QuizAttempt, form=None, now: datetime | None = None) -> QuizAttempt:
    now = now or utcnow()
    if attempt.state == AttemptState.IN_PROGRESS:
        if form is not None and (attempt.deadline_at is None or now <= attempt.deadline_at):
            save_answers(attempt, form, now)
        finish_attempt(attempt, now)
    return attempt


def grade_essay(answer: AttemptAnswer, fraction: float, comment: str, grader_id: int) -> QuizAttempt:
    if not 0.0 <= fraction <= 1.0 or math.isnan(fraction):
        raise QuizError(_l("The mark must be between 0 and 100%."))
    if answer.question.qtype != "essay":
        raise QuizError(_l("Only essay answers are graded by hand."))
    attempt = answer.attempt
    if attempt.state == AttemptState.IN_PROGRESS:
        raise QuizError(_l("This attempt has not been submitted yet."))
    answer.fraction = fraction
    answer.needs_grading = False
    answer.grader_comment = comment.strip()
    answer.graded_by_id = grader_id
    answer.graded_at = utcnow()
    record("quiz.essay_grade", "quiz_attempt", attempt.id, actor_id=grader_id, subject_id=attempt.user_id,
           data={"slot": answer.slot, "fraction": fraction})
    _update_result(attempt, utcnow())
    return attempt


def grading_queue(viewer: User | None, limit: int = 100):
    """Essays waiting for a mark, of the officials ``viewer`` may see."""
    return db.session.scalars(
        select(AttemptAnswer).join(QuizAttempt).join(User, User.id == QuizAttempt.user_id)
        .outerjoin(OrgUnit, OrgUnit.id == User.unit_id)
        .where(AttemptAnswer.needs_grading.is_(True), QuizAttempt.state == AttemptState.NEEDS_GRADING.value,
               user_condition(viewer))
        .order_by(QuizAttempt.submitted_at).limit(limit)).all()
