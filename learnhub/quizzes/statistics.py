"""Question statistics for trainers: which questions to check."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from .models import AttemptAnswer, AttemptState, Question, Quiz, QuizAttempt


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
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.GRADED.value)).one()
    rows = db.session.execute(select(
        AttemptAnswer.question_id, AttemptAnswer.fraction, QuizAttempt.score).join(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.GRADED.value)).all()
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
