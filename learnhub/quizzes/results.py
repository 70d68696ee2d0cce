"""What an official's attempts at a quiz add up to, and the one rule for "passed".

"Passed" is defined once, in SQL (``passed_quizzes``): reports and course
completion use it as a subquery, and the learner's pages read the same rule
for one official through ``quiz_result``.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select, union

from ..extensions import db
from .attempts import attempts_of
from .models import AttemptState, Quiz, QuizAttempt


def passed_quizzes():
    """SELECT (user_id, course_id) of every quiz a user has passed, by the quiz's grading method.

    Highest: any passed attempt. Last: the latest graded attempt passed.
    """
    # Only the quizzes graded by the last attempt need the latest attempt of each official:
    # without them, this aggregate is empty instead of covering every attempt.
    latest = (select(QuizAttempt.user_id, QuizAttempt.quiz_id, func.max(QuizAttempt.number).label("number"))
              .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
              .where(QuizAttempt.state == AttemptState.GRADED.value, Quiz.grading == "last")
              .group_by(QuizAttempt.user_id, QuizAttempt.quiz_id).subquery())
    highest = (select(QuizAttempt.user_id, Quiz.course_id).join(Quiz, Quiz.id == QuizAttempt.quiz_id)
               .where(Quiz.grading != "last", QuizAttempt.passed.is_(True)))
    last = (select(QuizAttempt.user_id, Quiz.course_id).join(Quiz, Quiz.id == QuizAttempt.quiz_id)
            .join(latest, and_(latest.c.user_id == QuizAttempt.user_id, latest.c.quiz_id == QuizAttempt.quiz_id,
                               latest.c.number == QuizAttempt.number))
            .where(Quiz.grading == "last", QuizAttempt.passed.is_(True)))
    return union(highest, last).subquery()


@dataclass
class QuizResult:
    percent: float | None
    passed: bool
    attempts_used: int
    attempts_left: int | None  # None: unlimited
    in_progress: bool = False  # an attempt is open now
    waiting: bool = False  # an attempt waits for a trainer's mark

    @property
    def status(self) -> str:
        """not_started ("chưa làm"), in_progress, waiting, passed or not_passed ("chưa đạt")."""
        if self.passed:
            return "passed"
        if self.attempts_used == 0:
            return "not_started"
        if self.waiting:
            return "waiting"
        if self.percent is None and self.in_progress:
            return "in_progress"
        return "not_passed"

    @property
    def closed(self) -> bool:
        """Moodle's "after the quiz is closed": passed, or no attempt left and none open."""
        return self.passed or (self.attempts_left == 0 and not self.in_progress)


def has_passed(user_id: int, quiz: Quiz) -> bool:
    passed = passed_quizzes()
    return db.session.scalar(select(passed.c.user_id).where(
        passed.c.user_id == user_id, passed.c.course_id == quiz.course_id).limit(1)) is not None


def quiz_result(user_id: int, quiz: Quiz) -> QuizResult:
    """The official's standing in one quiz: the score that counts (by the quiz's grading
    method), whether it is passed (by ``passed_quizzes``), and attempts used and left."""
    attempts = attempts_of(user_id, quiz)
    graded = [a for a in attempts if a.state == AttemptState.GRADED]
    if quiz.grading == "last":
        percent = graded[-1].percent if graded else None
    else:
        percent = max((a.percent for a in graded), default=None)
    passed = bool(graded) and has_passed(user_id, quiz)
    left = None if not quiz.max_attempts else max(quiz.max_attempts - len(attempts), 0)
    return QuizResult(percent, passed, len(attempts), left,
                      in_progress=any(a.state == AttemptState.IN_PROGRESS for a in attempts),
                      waiting=any(a.state == AttemptState.NEEDS_GRADING for a in attempts))
