"""Attempts: start → save → submit → graded, and essays marked by a trainer. Callers commit.

Grading an attempt is progress: once it is graded the ``progress_recorded``
signal is sent (see ``learnhub.signals``), so completion and certificates follow
in the same transaction.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, bindparam, case, exists, func, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..auth.models import User
from ..auth.scope import user_condition
from ..catalog.models import Course
from ..extensions import db
from ..models_base import utcnow
from ..orgs.models import OrgUnit
from ..signals import progress_recorded
from ..sql import for_writing
from .grading import grade
from .models import AttemptAnswer, AttemptState, Question, Quiz, QuizAttempt


SCORED = {"multichoice", "multiresponse", "truefalse", "shortanswer", "numerical", "matching", "essay"}


class QuizError(ValueError):
    """Shown to the learner as is (already translated)."""


def quiz_for(course: Course) -> Quiz | None:
    return db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))


# How many choices a question shows (its answers, or a matching question's right-hand
# texts), read in SQL: drawing needs only that of each question, not its whole data.
_CHOICES = case((Question.qtype == "matching", func.json_array_length(Question.data["rights"])),
                (Question.qtype.in_(("multichoice", "multiresponse")),
                 func.json_array_length(Question.data["answers"])), else_=0)
_POOL = (select(Question.id, Question.category, Question.position, Question.qtype, _CHOICES.label("choices"))
         .where(Question.course_id == bindparam("course_id"), Question.retired_at.is_(None),
                Question.qtype.in_(SCORED)).order_by(Question.position))


def _draw(quiz: Quiz, rng: random.Random) -> list:
    pool = db.session.connection().execute(_POOL, {"course_id": quiz.course_id}).all()
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


def _answer_order(question, shuffle: bool, rng: random.Random) -> list[int]:
    if question.qtype not in ("multichoice", "multiresponse", "matching"):
        return []
    order = list(range(question.choices or 0))
    if shuffle:
        rng.shuffle(order)
    return order


def attempts_of(user_id: int, quiz: Quiz) -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id).order_by(QuizAttempt.number)))


def finalise_expired(user_id: int, quiz: Quiz, now: datetime | None = None) -> None:
    """Grade attempts whose time ran out while the official was away."""
    now = now or utcnow()
    for attempt in attempts_of(user_id, quiz):
        if attempt.state == AttemptState.IN_PROGRESS and attempt.deadline_at is not None and now > attempt.deadline_at:
            finish_attempt(attempt, now)


def _expired(attempt: QuizAttempt, now: datetime) -> bool:
    return (attempt.state == AttemptState.IN_PROGRESS and attempt.deadline_at is not None
            and now > attempt.deadline_at)


def start_attempt(user_id: int, quiz: Quiz, now: datetime | None = None, seed: int | None = None) -> QuizAttempt:
    """Resume the attempt in progress, or start the next one if any are left."""
    return db.session.get(QuizAttempt, open_attempt_id(user_id, quiz, now, seed))


def open_attempt_id(user_id: int, quiz: Quiz, now: datetime | None = None, seed: int | None = None) -> int:
    """``start_attempt``, for a caller that needs only the attempt's id: the new attempt
    and its slots are written with two Core statements."""
    now = now or utcnow()
    attempts = attempts_of(user_id, quiz)
    if any(_expired(a, now) for a in attempts):  # as finalise_expired
        for attempt in attempts:
            if _expired(attempt, now):
                finish_attempt(attempt, now)
        attempts = attempts_of(user_id, quiz)
    for retry in range(3):
        if retry:
            attempts = attempts_of(user_id, quiz)
        open_attempt = next((a for a in attempts if a.state == AttemptState.IN_PROGRESS), None)
        if open_attempt is not None:
            return open_attempt.id
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
                connection = db.session.connection()
                attempt_id = connection.execute(_NEW_ATTEMPT, {
                    "user_id": user_id, "quiz_id": quiz.id, "number": number, "started_at": now,
                    "deadline_at": deadline, "pass_percent": quiz.pass_percent, "review": quiz.review,
                    "max_score": float(len(questions))}).scalar_one()
                connection.execute(_NEW_SLOTS, [
                    {"attempt_id": attempt_id, "slot": slot, "question_id": question.id,
                     "order": _answer_order(question, quiz.shuffle_answers, rng)}
                    for slot, question in enumerate(questions, start=1)])
            return attempt_id
        except IntegrityError:
            db.session.expire_all()
            continue
    raise QuizError(_l("The quiz is busy; try again in a moment."))


_NEW_ATTEMPT = QuizAttempt.__table__.insert().returning(QuizAttempt.__table__.c.id)
_NEW_SLOTS = AttemptAnswer.__table__.insert()


def _choice(value: str | None, order: list[int]) -> int | None:
    """The choice a posted value names, or None for anything else ("²" is a digit to
    str.isdigit but no number: only ASCII digits count)."""
    if value and value.isascii() and value.isdigit() and len(value) < 6 and int(value) < len(order):
        return order[int(value)]
    return None


def _response_from_form(qtype: str, data: dict | None, order: list[int], form, slot: int) -> dict | None:
    """Turn the posted fields of one slot into a response in the bank's own terms."""
    name = f"q{slot}"
    if qtype == "multichoice":
        choice = _choice(form.get(name), order)
        return None if choice is None else {"choice": choice}
    if qtype == "multiresponse":
        chosen = [c for c in (_choice(v, order) for v in form.getlist(name)) if c is not None]
        return {"choices": sorted(set(chosen))}
    if qtype == "truefalse":
        value = form.get(name)
        return {"value": value == "true"} if value in ("true", "false") else None
    if qtype in ("shortanswer", "numerical", "essay"):
        value = form.get(name)
        return None if value is None else {"text": value[:20000]}
    if qtype == "matching":
        rights = data.get("rights", [])
        matches = {}
        for i in range(len(data.get("pairs", []))):
            choice = _choice(form.get(f"{name}-m{i}"), order)
            if choice is not None:
                matches[str(i)] = rights[choice]
        return {"matches": matches}
    return None


class AttemptNotFound(LookupError):
    """No such attempt, or it is another official's: to them it does not exist."""


@dataclass
class _Slot:
    slot: int
    qtype: str
    data: dict | None  # the question's data; for a save only what reading the form needs
    order: list[int]
    response: dict | None


@dataclass
class _Held:
    """An attempt and its slots, read under the write lock of ``_hold``."""

    id: int
    user_id: int
    quiz_id: int
    course_id: int
    number: int
    state: str
    deadline_at: datetime | None
    max_score: float
    pass_percent: float
    slots: list[_Slot]


def _hold_statement(grading: bool):
    # The grader needs every question's data; reading a save's form needs only that of
    # matching questions (its pairs and right-hand texts).
    data = Question.data if grading else case((Question.qtype == "matching", Question.data))
    return (select(QuizAttempt.user_id, QuizAttempt.quiz_id, Quiz.course_id, QuizAttempt.number,
                   QuizAttempt.state, QuizAttempt.deadline_at, QuizAttempt.max_score, QuizAttempt.pass_percent,
                   AttemptAnswer.slot, Question.qtype, data.label("data"), AttemptAnswer.order,
                   AttemptAnswer.response)
            .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
            .join(AttemptAnswer, AttemptAnswer.attempt_id == QuizAttempt.id)
            .join(Question, Question.id == AttemptAnswer.question_id)
            .where(QuizAttempt.id == bindparam("attempt_id")).order_by(AttemptAnswer.slot))


_HOLD = {False: _hold_statement(False), True: _hold_statement(True)}
_STILL_OPEN = exists().where(QuizAttempt.id == bindparam("attempt"),
                             QuizAttempt.state == AttemptState.IN_PROGRESS.value)
_answers = AttemptAnswer.__table__
# Bound names differ from the column names: executemany sets one row per parameter set.
_WRITE_RESPONSE = (_answers.update()
                   .where(_answers.c.attempt_id == bindparam("attempt"), _answers.c.slot == bindparam("at_slot"),
                          _STILL_OPEN)
                   .values(response=bindparam("new_response", type_=JSON), saved_at=bindparam("now")))
_WRITE_MARK = (_answers.update()
               .where(_answers.c.attempt_id == bindparam("attempt"), _answers.c.slot == bindparam("at_slot"))
               .values(fraction=bindparam("new_fraction"), needs_grading=bindparam("pending")))
_attempts = QuizAttempt.__table__
_CLOSE = (_attempts.update()
          .where(_attempts.c.id == bindparam("attempt"), _attempts.c.state == AttemptState.IN_PROGRESS.value)
          .values(state=bindparam("new_state"), submitted_at=bindparam("submitted"), graded_at=bindparam("graded"),
                  score=bindparam("new_score"), percent=bindparam("new_percent"), passed=bindparam("new_passed")))


def _hold(attempt_id: int, user_id: int | None = None, grading: bool = False) -> _Held:
    """The attempt, its state and its slots in one query, locked for writing until the
    transaction ends: no save or submit of the same attempt can come between this read
    and this transaction's writes. Every save and every submit starts here.
    """
    stmt = for_writing(_HOLD[grading], QuizAttempt, AttemptAnswer)
    rows = db.session.connection().execute(stmt, {"attempt_id": attempt_id}).all()
    if not rows or (user_id is not None and rows[0].user_id != user_id):
        raise AttemptNotFound(attempt_id)
    first = rows[0]
    return _Held(attempt_id, first.user_id, first.quiz_id, first.course_id, first.number, first.state,
                 first.deadline_at, first.max_score, first.pass_percent,
                 [_Slot(r.slot, r.qtype, r.data, r.order, r.response) for r in rows])


def _write_responses(held: _Held, form, now: datetime) -> int:
    """Store the responses of the form that differ from the stored ones: one statement,
    which changes nothing unless the attempt is still open."""
    changed = []
    for slot in held.slots:
        # Every slot on the page posts a hidden q<slot>-shown marker, so an empty
        # response (all boxes unticked) is told apart from a slot not sent at all.
        if f"q{slot.slot}-shown" not in form:
            continue
        response = _response_from_form(slot.qtype, slot.data, slot.order, form, slot.slot)
        if response != slot.response:
            slot.response = response
            changed.append({"attempt": held.id, "at_slot": slot.slot, "new_response": response, "now": now})
    if not changed:
        return 0
    written = db.session.connection().execute(_WRITE_RESPONSE, changed).rowcount
    if written != len(changed):  # cannot happen under the lock of _hold; never keep half a save
        raise QuizError(_l("This attempt has already been submitted."))
    _forget(held.id)
    return len(changed)


def _check_open(held: _Held, now: datetime) -> None:
    if held.state != AttemptState.IN_PROGRESS:
        raise QuizError(_l("This attempt has already been submitted."))
    if held.deadline_at is not None and now > held.deadline_at:
        _close(_hold(held.id, grading=True), now)
        raise QuizError(_l("Time is up: the attempt was submitted with the answers saved before the deadline."))


def save_answers(attempt_id: int, form, now: datetime | None = None, user_id: int | None = None) -> int:
    """Store the responses present in the form; returns how many slots changed.

    Two statements: the attempt and its slots read under the write lock, then one
    UPDATE of the answers that changed. ``user_id``: the attempt must be theirs
    (``AttemptNotFound`` otherwise). A closed or expired attempt raises QuizError
    (an expired one is graded first, with the answers saved before the deadline).
    """
    now = now or utcnow()
    held = _hold(attempt_id, user_id)
    _check_open(held, now)
    return _write_responses(held, form, now)


def submit_attempt(attempt_id: int, form=None, now: datetime | None = None, user_id: int | None = None) -> bool:
    """Save the form's responses, if the time allows, and grade the attempt once.

    Returns True if this call graded it; False if it was already submitted.
    """
    now = now or utcnow()
    held = _hold(attempt_id, user_id, grading=True)
    if held.state != AttemptState.IN_PROGRESS:
        return False
    if form is not None and (held.deadline_at is None or now <= held.deadline_at):
        _write_responses(held, form, now)
    return _close(held, now)


def finish_attempt(attempt: QuizAttempt, now: datetime | None = None) -> bool:
    """Submit and grade once, with the answers as stored. Returns False if another
    request already did."""
    now = now or utcnow()
    return _close(_hold(attempt.id, grading=True), now)


def _result(fractions: list[float | None], max_score: float, pass_percent: float):
    """What the answers' marks add up to: (state, score, percent, passed). The one rule,
    for automatic grading and for a trainer's mark alike."""
    score = sum(f or 0.0 for f in fractions)
    percent = round(100.0 * score / max_score, 2) if max_score else 0.0
    if any(f is None for f in fractions):
        return AttemptState.NEEDS_GRADING.value, score, percent, None
    return AttemptState.GRADED.value, score, percent, percent >= pass_percent - 1e-9


def _close(held: _Held, now: datetime) -> bool:
    """Grade the held attempt and store the result: the attempt's row in one conditional
    UPDATE (of several simultaneous submits exactly one gets past it), the marks of
    its answers in one more statement."""
    if held.state != AttemptState.IN_PROGRESS:
        return False
    marks = [(s.slot, grade(s.qtype, s.data, s.response).fraction) for s in held.slots]
    state, score, percent, passed = _result([f for _slot, f in marks], held.max_score, held.pass_percent)
    graded = state == AttemptState.GRADED.value
    connection = db.session.connection()
    claimed = connection.execute(_CLOSE, {
        "attempt": held.id, "new_state": state, "new_score": score, "new_percent": percent, "new_passed": passed,
        "submitted": min(now, held.deadline_at) if held.deadline_at else now,
        "graded": now if graded else None}).rowcount
    if claimed != 1:
        return False
    connection.execute(_WRITE_MARK, [{"attempt": held.id, "at_slot": slot, "new_fraction": fraction,
                                      "pending": fraction is None} for slot, fraction in marks])
    held.state = state
    _forget(held.id)
    if graded:
        _announce_graded(held.id, held.user_id, held.quiz_id, held.course_id, held.number, percent, passed)
    return True


def _announce_graded(attempt_id: int, user_id: int, quiz_id: int, course_id: int, number: int,
                     percent: float, passed: bool) -> None:
    progress_recorded.send("quizzes", user_id=user_id, course_id=course_id)
    # Last: an audit append holds the log's lock until the transaction ends (on PostgreSQL),
    # so whatever comes after it in the transaction makes every other submit wait.
    record("quiz.result", "quiz_attempt", attempt_id, subject_id=user_id,
           data={"quiz": quiz_id, "number": number, "percent": percent, "passed": passed})


def _forget(attempt_id: int) -> None:
    """Objects of this attempt already in the session were written around: reload them on next use."""
    attempt = db.session.identity_map.get(QuizAttempt.__mapper__.identity_key_from_primary_key((attempt_id,)))
    if attempt is not None:
        for answer in attempt.__dict__.get("answers", ()):
            db.session.expire(answer)
        db.session.expire(attempt)


def _update_result(attempt: QuizAttempt, now: datetime) -> None:
    state, score, percent, passed = _result([a.fraction for a in attempt.answers], attempt.max_score,
                                            attempt.pass_percent)
    attempt.state, attempt.score, attempt.percent, attempt.passed = state, score, percent, passed
    attempt.graded_at = now if state == AttemptState.GRADED.value else None
    db.session.flush()
    if state == AttemptState.GRADED.value:
        quiz = db.session.get(Quiz, attempt.quiz_id)
        _announce_graded(attempt.id, attempt.user_id, attempt.quiz_id, quiz.course_id, attempt.number,
                         percent, passed)


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
