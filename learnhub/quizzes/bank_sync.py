"""A course's question bank and quiz settings, from parsed GIFT into the database. Callers commit.

A changed question becomes a new version; attempts keep the version they were given.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from sqlalchemy import select

from ..catalog.models import Course
from ..content import RENDER_VERSION
from ..extensions import db
from ..models_base import utcnow
from . import gift
from .banks import QuizSpec
from .models import Question, Quiz
from .rendering import question_data, render_text


def _stamp(q: gift.Question) -> str:
    payload = dataclasses.asdict(q)
    payload.pop("line", None)
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _render_into(question: Question, q: gift.Question) -> None:
    payload = dataclasses.asdict(q)
    payload.pop("line", None)
    data = question_data(q)
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
        "time_limit_minutes", "max_attempts", "pass_percent", "grading", "review",
        "right_answers")}
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
