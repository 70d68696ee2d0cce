"""Quizzes: bank sync, attempts (start → save → submit → graded), essay grading, statistics.

Services never commit; the calling view or command commits once.
"""
from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..catalog.models import Course
from ..content import RENDER_VERSION, render_markdown, render_plain, sanitize
from ..extensions import db
from ..models_base import utcnow
from . import gift
from .banks import QuizSpec
from .grading import grade
from .models import AttemptAnswer, Question, Quiz, QuizAttempt

SCORED = {"multichoice", "multiresponse", "truefalse", "shortanswer", "numerical", "matching", "essay"}


class QuizError(ValueError):
    """Shown to the learner as is (already translated)."""


# --- rendering question text through the lesson pipeline ------------------

_SINGLE_PARAGRAPH = re.compile(r"<p>((?:(?!</?p[\s>]).)*)</p>", re.S)


def render_text(text: str, fmt: str, inline: bool = False) -> str:
    if fmt == "markdown":
        out = render_markdown(text).html.strip()
    elif fmt == "plain":
        out = render_plain(text) if not inline else html.escape(text).replace("\n", "<br>")
    else:  # html and moodle (auto-format): HTML allowed, blank lines make paragraphs
        if fmt == "moodle" and not inline and "<p" not in text.lower():
            text = "".join(f"<p>{p.strip()}</p>" for p in re.split(r"\n\s*\n", text) if p.strip())
        out = sanitize(text.replace("\n", "<br>") if fmt == "moodle" else text)
    if inline:
        # One bare paragraph is unwrapped so the text sits inside the page's own element;
        # anything with several blocks stays whole, or the page's markup would be torn.
        single = _SINGLE_PARAGRAPH.fullmatch(out)
        if single:
            out = single.group(1)
    return out


def _question_data(q: gift.Question) -> dict:
    fmt = q.text_format
    feedback = lambda t: render_text(t, fmt, inline=True) if t else ""  # noqa: E731
    if q.type in ("multichoice", "multiresponse", "shortanswer"):
        return {"answers": [{"text": a.text, "html": render_text(a.text, fmt, inline=True),
                             "fraction": a.fraction, "feedback": feedback(a.feedback)} for a in q.answers]}
    if q.type == "truefalse":
        by_text = {}
        for a in q.answers:
            by_text[str(a.text).lower()] = a
        correct = q.correct if q.correct is not None else bool(q.answers and q.answers[0].fraction > 0)
        return {"correct": correct,
                "feedback_true": feedback(getattr(by_text.get("true"), "feedback", "") or ""),
                "feedback_false": feedback(getattr(by_text.get("false"), "feedback", "") or "")}
    if q.type == "numerical":
        return {"answers": [{"value": a.value, "tolerance": a.tolerance, "min": a.min, "max": a.max,
                             "fraction": a.fraction, "feedback": feedback(a.feedback)} for a in q.answers]}
    if q.type == "matching":
        pairs = [a for a in q.answers if a.text.strip()]
        rights = []
        for a in q.answers:
            if a.match is not None and a.match not in rights:
                rights.append(a.match)
        return {"pairs": [{"html": render_text(a.text, fmt, inline=True), "right": a.match} for a in pairs],
                "rights": rights}
    return {}


def _stamp(q: gift.Question) -> str:
    payload = dataclasses.asdict(q)
    payload.pop("line", None)
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _render_into(question: Question, q: gift.Question) -> None:
    payload = dataclasses.asdict(q)
    payload.pop("line", None)
    data = _question_data(q)
    data["gift"] = payload
    data["render_version"] = RENDER_VERSION
    question.data = data
    question.text_html = render_text(q.text, q.text_format)
    question.general_feedback_html = render_text(q.general_feedback, q.text_format) if q.general_feedback else ""


def sync_quiz(course: Course, spec: QuizSpec, report) -> None:
    """Quiz settings and questions of one course; changed questions get a new version."""
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    settings = {k: getattr(spec, k) for k in (
        "bank", "questions_per_attempt", "per_category", "shuffle_questions", "shuffle_answers",
        "time_limit_minutes", "max_attempts", "pass_percent", "grading", "review")}
    if quiz is None:
        quiz = Quiz(course_id=course.id, **settings)
        db.session.add(quiz)
        report.created.append(f"{course.slug}/quiz")
    elif quiz.edited_at is None and any(getattr(quiz, k) != v for k, v in settings.items()):
        # Settings a trainer changed in the app win over the file.
        for key, value in settings.items():
            setattr(quiz, key, value)
        quiz.updated_at = utcnow()
        report.updated.append(f"{course.slug}/quiz")

    current = {q.key: q for q in db.session.scalars(
        select(Question).where(Question.course_id == course.id, Question.retired_at.is_(None)))}
    seen: dict[str, int] = {}
    keys = set()
    for position, q in enumerate(spec.questions):
        base = q.name or hashlib.sha1(q.text.encode()).hexdigest()[:16]
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        keys.add(key)
        stamp = _stamp(q)
        existing = current.get(key)
        if existing is not None and existing.source_hash == stamp:
            if existing.position != position:
                existing.position = position
            if (existing.data or {}).get("render_version") != RENDER_VERSION:
                # Same question, newer rendering pipeline: re-render in place, same version.
                _render_into(existing, q)
                report.updated.append(f"{course.slug}/q:{key}")
            continue
        version = 1
        if existing is not None:
            existing.retired_at = utcnow()
            version = existing.version + 1
            report.updated.append(f"{course.slug}/q:{key}")
        else:
            report.created.append(f"{course.slug}/q:{key}")
        question = Question(course_id=course.id, key=key[:200], name=q.name[:300], category=q.category[:300],
                            qtype=q.type, source_hash=stamp, position=position, version=version)
        _render_into(question, q)
        db.session.add(question)
    for key, question in current.items():
        if key not in keys:
            question.retired_at = utcnow()
            report.retired.append(f"{course.slug}/q:{key}")


def export_bank(course: Course) -> str:
    questions = db.session.scalars(select(Question).where(
        Question.course_id == course.id, Question.retired_at.is_(None)).order_by(Question.position)).all()
    parsed = []
    for row in questions:
        payload = dict(row.data["gift"])
        payload["answers"] = [gift.Answer(**a) for a in payload.get("answers", [])]
        parsed.append(gift.Question(**payload))
    return gift.export_gift(parsed)


def quiz_for(course: Course) -> Quiz | None:
    return db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))


# --- attempts -------------------------------------------------------------

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


def attempts_of(user_id: int, quiz: Quiz) -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id).order_by(QuizAttempt.number)))


def finalise_expired(user_id: int, quiz: Quiz, now: datetime | None = None) -> None:
    """Grade attempts whose time ran out while the official was away."""
    now = now or utcnow()
    for attempt in attempts_of(user_id, quiz):
        if attempt.state == "in_progress" and attempt.deadline_at is not None and now > attempt.deadline_at:
            finish_attempt(attempt, now)


def start_attempt(user_id: int, quiz: Quiz, now: datetime | None = None, seed: int | None = None) -> QuizAttempt:
    """Resume the attempt in progress, or start the next one if any are left."""
    now = now or utcnow()
    finalise_expired(user_id, quiz, now)
    for _ in range(3):
        attempts = attempts_of(user_id, quiz)
        open_attempt = next((a for a in attempts if a.state == "in_progress"), None)
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
    if attempt.state != "in_progress":
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
        update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.state == "in_progress")
        .values(state="grading", submitted_at=min(now, attempt.deadline_at) if attempt.deadline_at else now)
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
        attempt.state, attempt.passed, attempt.graded_at = "needs_grading", None, None
    else:
        attempt.state, attempt.graded_at = "graded", now
        attempt.passed = attempt.percent >= attempt.pass_percent - 1e-9
    db.session.flush()
    if attempt.state == "graded":
        from ..audit.services import record
        from ..auth.models import User
        from ..certificates.services import issue_certificate_if_eligible
        from ..catalog.completion import refresh_completions
        record("quiz.result", "quiz_attempt", attempt.id, subject_id=attempt.user_id,
               data={"quiz": attempt.quiz_id, "number": attempt.number, "percent": attempt.percent,
                     "passed": attempt.passed})
        quiz = db.session.get(Quiz, attempt.quiz_id)
        refresh_completions(course_id=quiz.course_id, user_id=attempt.user_id)
        issue_certificate_if_eligible(db.session.get(User, attempt.user_id))


def submit_attempt(attempt: QuizAttempt, form=None, now: datetime | None = None) -> QuizAttempt:
    now = now or utcnow()
    if attempt.state == "in_progress":
        if form is not None and (attempt.deadline_at is None or now <= attempt.deadline_at):
            save_answers(attempt, form, now)
        finish_attempt(attempt, now)
    return attempt


@dataclass
class QuizResult:
    percent: float | None
    passed: bool
    attempts_used: int
    attempts_left: int | None  # None: unlimited


def quiz_result(user_id: int, quiz: Quiz) -> QuizResult:
    attempts = attempts_of(user_id, quiz)
    graded = [a for a in attempts if a.state == "graded"]
    if quiz.grading == "last":
        chosen = graded[-1] if graded else None
        percent = chosen.percent if chosen else None
        passed = bool(chosen and chosen.passed)
    else:
        percent = max((a.percent for a in graded), default=None)
        passed = any(a.passed for a in graded)
    left = None if not quiz.max_attempts else max(quiz.max_attempts - len(attempts), 0)
    return QuizResult(percent, passed, len(attempts), left)


def may_review_answers(attempt: QuizAttempt, quiz: Quiz) -> bool:
    """Whether the right answers and feedback may be shown for this finished attempt."""
    if attempt.state == "in_progress":
        return False
    if attempt.review == "after_pass":
        return quiz_result(attempt.user_id, quiz).passed
    return True


# --- essays ---------------------------------------------------------------

def grade_essay(answer: AttemptAnswer, fraction: float, comment: str, grader_id: int) -> QuizAttempt:
    if not 0.0 <= fraction <= 1.0 or math.isnan(fraction):
        raise QuizError(_l("The mark must be between 0 and 100%."))
    if answer.question.qtype != "essay":
        raise QuizError(_l("Only essay answers are graded by hand."))
    attempt = answer.attempt
    if attempt.state == "in_progress":
        raise QuizError(_l("This attempt has not been submitted yet."))
    answer.fraction = fraction
    answer.needs_grading = False
    answer.grader_comment = comment.strip()
    answer.graded_by_id = grader_id
    answer.graded_at = utcnow()
    _update_result(attempt, utcnow())
    return attempt


def grading_queue(limit: int = 100):
    return db.session.scalars(select(AttemptAnswer).join(QuizAttempt).where(
        AttemptAnswer.needs_grading.is_(True), QuizAttempt.state == "needs_grading")
        .order_by(QuizAttempt.submitted_at).limit(limit)).all()


# --- statistics -----------------------------------------------------------

@dataclass
class QuestionStats:
    question: Question
    count: int
    facility: float | None        # mean score, 0..1
    discrimination: float | None  # correlation of this score with the rest of the attempt

    @property
    def needs_review(self) -> bool:
        """Hard for nearly everyone, or answered no better by stronger attempts: often a
        wrong key, an ambiguous wording or a topic the lessons do not teach."""
        return ((self.facility is not None and self.facility < 0.3)
                or (self.discrimination is not None and self.discrimination < 0.2))


@dataclass
class QuizStats:
    attempts: int
    mean_percent: float | None
    pass_rate: float | None
    questions: list[QuestionStats]


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def quiz_statistics(quiz: Quiz) -> QuizStats:
    summary = db.session.execute(select(
        func.count(QuizAttempt.id), func.avg(QuizAttempt.percent),
        func.avg(func.cast(QuizAttempt.passed, db.Integer))).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == "graded")).one()
    rows = db.session.execute(select(
        AttemptAnswer.question_id, AttemptAnswer.fraction, QuizAttempt.score).join(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == "graded")).all()
    per_question: dict[int, tuple[list[float], list[float]]] = {}
    for question_id, fraction, score in rows:
        xs, ys = per_question.setdefault(question_id, ([], []))
        xs.append(fraction or 0.0)
        ys.append((score or 0.0) - (fraction or 0.0))
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(per_question)))} \
        if per_question else {}
    stats = [QuestionStats(questions[qid], len(xs), sum(xs) / len(xs), _pearson(xs, ys))
             for qid, (xs, ys) in per_question.items()]
    stats.sort(key=lambda s: (s.facility if s.facility is not None else 2, s.question.position))
    attempts, mean, rate = summary
    return QuizStats(attempts, float(mean) if mean is not None else None,
                     float(rate) if rate is not None else None, stats)


# --- review ---------------------------------------------------------------

@dataclass
class ReviewItem:
    answer: AttemptAnswer
    response_html: str
    feedback: list[str]
    right_html: str


def _fmt_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _right_answer_html(question: Question) -> str:
    data, qtype = question.data, question.qtype
    if qtype in ("multichoice", "multiresponse", "shortanswer"):
        best = [a for a in data.get("answers", []) if a["fraction"] > 0]
        if qtype == "multichoice":
            best = [a for a in best if a["fraction"] >= max(x["fraction"] for x in best)] if best else []
        return "; ".join(a["html"] for a in best)
    if qtype == "truefalse":
        return html.escape(str(_l("True") if data.get("correct") else _l("False")))
    if qtype == "numerical":
        parts = []
        for a in data.get("answers", []):
            if a["fraction"] < 1:
                continue
            if a.get("min") is not None:
                parts.append(f"{_fmt_number(a['min'])} – {_fmt_number(a['max'])}")
            elif a.get("tolerance"):
                parts.append(f"{_fmt_number(a['value'])} ± {_fmt_number(a['tolerance'])}")
            else:
                parts.append(_fmt_number(a["value"]))
        return html.escape("; ".join(parts))
    if qtype == "matching":
        return "; ".join(f"{p['html']} → {html.escape(p['right'])}" for p in data.get("pairs", []))
    return ""


def _response_html(question: Question, response: dict | None) -> str:
    if not response:
        return ""
    data, qtype = question.data, question.qtype
    answers = data.get("answers", [])
    if qtype == "multichoice":
        choice = response.get("choice")
        return answers[choice]["html"] if isinstance(choice, int) and choice < len(answers) else ""
    if qtype == "multiresponse":
        return "; ".join(answers[i]["html"] for i in response.get("choices", []) if i < len(answers))
    if qtype == "truefalse":
        return html.escape(str(_l("True") if response.get("value") else _l("False")))
    if qtype == "matching":
        matches = response.get("matches") or {}
        return "; ".join(f"{p['html']} → {html.escape(matches.get(str(i)) or '—')}"
                         for i, p in enumerate(data.get("pairs", [])))
    return html.escape(response.get("text") or "").replace("\n", "<br>")


def review_items(attempt: QuizAttempt, show_answers: bool) -> list[ReviewItem]:
    items = []
    for answer in attempt.answers:
        question = answer.question
        feedback = grade(question.qtype, question.data, answer.response).feedback if show_answers else []
        items.append(ReviewItem(answer, _response_html(question, answer.response), feedback,
                                _right_answer_html(question) if show_answers else ""))
    return items


def passed_quizzes():
    """SELECT (user_id, course_id) of every quiz a user has passed, by the quiz's grading method.

    Highest: any passed attempt. Last: the latest graded attempt passed.
    """
    from sqlalchemy import and_, union

    latest = (select(QuizAttempt.user_id, QuizAttempt.quiz_id, func.max(QuizAttempt.number).label("number"))
              .where(QuizAttempt.state == "graded").group_by(QuizAttempt.user_id, QuizAttempt.quiz_id).subquery())
    highest = (select(QuizAttempt.user_id, Quiz.course_id).join(Quiz, Quiz.id == QuizAttempt.quiz_id)
               .where(Quiz.grading != "last", QuizAttempt.passed.is_(True)))
    last = (select(QuizAttempt.user_id, Quiz.course_id).join(Quiz, Quiz.id == QuizAttempt.quiz_id)
            .join(latest, and_(latest.c.user_id == QuizAttempt.user_id, latest.c.quiz_id == QuizAttempt.quiz_id,
                               latest.c.number == QuizAttempt.number))
            .where(Quiz.grading == "last", QuizAttempt.passed.is_(True)))
    return union(highest, last).subquery()
