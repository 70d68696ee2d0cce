"""Question banks and quiz settings from files. Pure: no Flask, no database.

A course's quiz is described by the ``quiz:`` block of its course.md; its
questions come from the GIFT file named by ``bank`` in quizzes/.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..catalog.loader import ContentProblem
from .gift import GiftError, Question, parse_gift

GRADING = ("highest", "last")
REVIEW = ("after_attempt", "after_pass")
RIGHT_ANSWERS = ("after_close", "after_attempt")


@dataclass
class QuizSpec:
    course_slug: str
    bank: str
    questions: list[Question]
    questions_per_attempt: int = 10
    per_category: dict[str, int] = field(default_factory=dict)
    shuffle_questions: bool = True
    shuffle_answers: bool = True
    time_limit_minutes: int = 0
    max_attempts: int = 0
    pass_percent: float = 70.0
    grading: str = "highest"
    review: str = "after_attempt"
    right_answers: str = "after_close"


def _gradable(questions: list[Question]) -> list[Question]:
    return [q for q in questions if q.type != "description"]


def load_quiz(course_slug: str, settings: dict, course_file: str, quizzes_dir: Path,
              problems: list[ContentProblem]) -> QuizSpec | None:
    """Validate a course's quiz block and parse its bank; problems are appended."""
    before = len(problems)

    def problem(message: str) -> None:
        problems.append(ContentProblem(course_file, 1, f"quiz: {message}"))

    bank = settings.get("bank")
    if not isinstance(bank, str) or not bank.strip() or "/" in bank or "\\" in bank or bank.startswith("."):
        problem("bank must name a .gift file in quizzes/")
        return None
    path = quizzes_dir / bank
    rel = f"{quizzes_dir.name}/{bank}"
    if not path.is_file():
        problem(f"bank {rel} not found")
        return None
    try:
        questions = parse_gift(path.read_bytes(), rel)
    except GiftError as exc:
        problems.extend(ContentProblem(p.file, p.line, p.message) for p in exc.problems)
        return None

    def integer(key: str, default: int, low: int = 0, high: int = 10_000) -> int:
        value = settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problem(f"{key} must be a whole number from {low} to {high}")
            return default
        return value

    def flag(key: str, default: bool) -> bool:
        value = settings.get(key, default)
        if not isinstance(value, bool):
            problem(f"{key} must be true or false")
            return default
        return value

    def choice(key: str, options: tuple[str, ...]) -> str:
        value = settings.get(key, options[0])
        if value not in options:
            problem(f"{key} must be one of: {', '.join(options)}")
            return options[0]
        return value

    known = {"bank", "questions_per_attempt", "per_category", "shuffle_questions", "shuffle_answers",
             "time_limit_minutes", "max_attempts", "pass_percent", "grading", "review",
             "right_answers"}
    for key in settings:
        if key not in known:
            problem(f"unknown setting '{key}'")
    spec = QuizSpec(course_slug=course_slug, bank=bank, questions=questions)
    spec.questions_per_attempt = integer("questions_per_attempt", 10, 1, 500)
    spec.shuffle_questions = flag("shuffle_questions", True)
    spec.shuffle_answers = flag("shuffle_answers", True)
    spec.time_limit_minutes = integer("time_limit_minutes", 0, 0, 24 * 60)
    spec.max_attempts = integer("max_attempts", 0, 0, 100)
    pass_percent = settings.get("pass_percent", 70)
    if isinstance(pass_percent, bool) or not isinstance(pass_percent, (int, float)) or not 0 <= pass_percent <= 100:
        problem("pass_percent must be a number from 0 to 100")
        pass_percent = 70
    spec.pass_percent = float(pass_percent)
    spec.grading = choice("grading", GRADING)
    spec.review = choice("review", REVIEW)
    spec.right_answers = choice("right_answers", RIGHT_ANSWERS)

    gradable = _gradable(questions)
    per_category = settings.get("per_category") or {}
    if not isinstance(per_category, dict):
        problem("per_category must map category names to numbers")
        per_category = {}
    counts: dict[str, int] = {}
    for q in gradable:
        counts[q.category] = counts.get(q.category, 0) + 1
    for category, n in per_category.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            problem(f"per_category['{category}'] must be a whole number")
        elif category not in counts:
            problem(f"category '{category}' has no questions in {rel}")
        elif counts[category] < n:
            problem(f"category '{category}' draws {n} questions but {rel} has only {counts[category]}")
    spec.per_category = {str(k): v for k, v in per_category.items() if isinstance(v, int)}
    if spec.per_category:
        if sum(spec.per_category.values()) != spec.questions_per_attempt:
            problem("the per_category numbers must add up to questions_per_attempt")
    elif len(gradable) < spec.questions_per_attempt:
        problem(f"questions_per_attempt is {spec.questions_per_attempt} but {rel} has only {len(gradable)} questions")
    return spec if len(problems) == before else None
