"""Quizzes: versioned questions from GIFT banks, settings per course, attempts and answers."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models_base import Base, UTCDateTime, utcnow


class AttemptState(str, enum.Enum):
    """An attempt's life: open → being graded → graded, or waiting for a trainer's mark."""

    IN_PROGRESS = "in_progress"
    GRADING = "grading"
    NEEDS_GRADING = "needs_grading"
    GRADED = "graded"


class Quiz(Base):
    """The end-of-course quiz and its settings (from course.md, or edited by a trainer)."""

    __tablename__ = "quiz"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), unique=True)
    bank: Mapped[str] = mapped_column(String(200), default="")
    questions_per_attempt: Mapped[int] = mapped_column(default=10)
    per_category: Mapped[dict] = mapped_column(JSON, default=dict)
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_answers: Mapped[bool] = mapped_column(default=True)
    time_limit_minutes: Mapped[int] = mapped_column(default=0)  # 0: no limit
    max_attempts: Mapped[int] = mapped_column(default=0)  # 0: unlimited
    pass_percent: Mapped[float] = mapped_column(Float, default=70.0)
    grading: Mapped[str] = mapped_column(String(20), default="highest")  # highest | last
    review: Mapped[str] = mapped_column(String(20), default="after_attempt")  # after_attempt | after_pass
    # When the right answers themselves appear (Moodle's "Right answer" review option):
    # after_close, once the quiz is passed or no attempt is left; after_attempt, with the feedback.
    right_answers: Mapped[str] = mapped_column(String(20), default="after_close")
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Question(Base):
    """One version of a question. A changed question gets a new row; attempts keep theirs."""

    __tablename__ = "question"
    __table_args__ = (Index("ix_question_course_key", "course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))  # ::name:: or a hash of the text
    name: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(300), default="")
    qtype: Mapped[str] = mapped_column(String(20))
    text_html: Mapped[str] = mapped_column(Text, default="")
    general_feedback_html: Mapped[str] = mapped_column(Text, default="")
    # Answers with fractions and feedback: never sent to a browser before submission.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(Text, default="")  # the question as GIFT, for export
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizAttempt(Base):
    __tablename__ = "quiz_attempt"
    # (user, quiz, number) unique: two concurrent starts cannot both take the same
    # attempt number, so the maximum can never be exceeded.
    __table_args__ = (UniqueConstraint("user_id", "quiz_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id"), index=True)
    number: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default=AttemptState.IN_PROGRESS.value, index=True)
    # in_progress | needs_grading | graded
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)  # sum of question scores
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column()
    pass_percent: Mapped[float] = mapped_column(Float, default=70.0)  # as it was at the start
    review: Mapped[str] = mapped_column(String(20), default="after_attempt")

    answers: Mapped[list[AttemptAnswer]] = relationship(order_by="AttemptAnswer.slot", back_populates="attempt")


class AttemptAnswer(Base):
    """One question slot of an attempt: the choice order shown, the response, its grade."""

    __tablename__ = "attempt_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id"), index=True)
    slot: Mapped[int] = mapped_column()
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    order: Mapped[list] = mapped_column(JSON, default=list)  # answer indexes in the order shown
    response: Mapped[dict | None] = mapped_column(JSON)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fraction: Mapped[float | None] = mapped_column(Float)  # 0..1 once graded
    needs_grading: Mapped[bool] = mapped_column(default=False)
    grader_comment: Mapped[str] = mapped_column(Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attempt: Mapped[QuizAttempt] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()
