"""Question banks and quiz settings from files. Pure: no Flask, no database.

A course's quiz is described by the ``quiz:`` block of its course.md; its
questions come from the GIFT file named by ``bank`` in quizzes/.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog.loader import ContentProblem
from ..messages import N_
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


def load_quiz(course_slug: str, settings: dict, course_file: str, banks: Path | Mapping[str, bytes],
              problems: list[ContentProblem], banks_label: str | None = None) -> QuizSpec | None:
    """Validate a course's quiz block and parse its bank; problems are appended.

    ``banks`` is the quizzes/ folder, or the banks in memory by file name (an upload,
    a draft): both are read the same way.
    """
    before = len(problems)

    def problem(template: str, **params) -> None:
        problems.append(ContentProblem.of(course_file, 1, template, **params))

    bank = settings.get("bank")
    if not isinstance(bank, str) or not bank.strip() or "/" in bank or "\\" in bank or bank.startswith("."):
        problem(N_("quiz: bank must name a .gift file in quizzes/"))
        return None
    if isinstance(banks, Path):
        rel = f"{banks_label or banks.name}/{bank}"
        data = (banks / bank).read_bytes() if (banks / bank).is_file() else None
    else:
        rel = f"{banks_label}/{bank}" if banks_label else bank
        data = banks.get(bank)
    if data is None:
        problem(N_("quiz: bank %(bank)s not found"), bank=rel)
        return None
    try:
        questions = parse_gift(data, rel)
    except GiftError as exc:
        problems.extend(ContentProblem(p.file, p.line, p.message, p.template, p.params) for p in exc.problems)
        return None

    def integer(key: str, default: int, low: int = 0, high: int = 10_000) -> int:
        value = settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problem(N_("quiz: %(key)s must be a whole number from %(low)s to %(high)s"), key=key, low=low, high=high)
            return default
        return value

    def flag(key: str, default: bool) -> bool:
        value = settings.get(key, default)
        if not isinstance(value, bool):
            problem(N_("quiz: %(key)s must be true or false"), key=key)
            return default
        return value

    def choice(key: str, options: tuple[str, ...]) -> str:
        value = settings.get(key, options[0])
        if value not in options:
            problem(N_("quiz: %(key)s must be one of: %(options)s"), key=key, options=", ".join(options))
            return options[0]
        return value

    known = {"bank", "questions_per_attempt", "per_category", "shuffle_questions", "shuffle_answers",
             "time_limit_minutes", "max_attempts", "pass_percent", "grading", "review",
             "right_answers"}
    for key in settings:
        if key not in known:
            problem(N_("quiz: unknown setting '%(key)s'"), key=key)
    spec = QuizSpec(course_slug=course_slug, bank=bank, questions=questions)
    spec.questions_per_attempt = integer("questions_per_attempt", 10, 1, 500)
    spec.shuffle_questions = flag("shuffle_questions", True)
    spec.shuffle_answers = flag("shuffle_answers", True)
    spec.time_limit_minutes = integer("time_limit_minutes", 0, 0, 24 * 60)
    spec.max_attempts = integer("max_attempts", 0, 0, 100)
    pass_percent = settings.get("pass_percent", 70)
    if isinstance(pass_percent, bool) or not isinstance(pass_percent, (int, float)) or not 0 <= pass_percent <= 100:
        problem(N_("quiz: pass_percent must be a number from 0 to 100"))
        pass_percent = 70
    spec.pass_percent = float(pass_percent)
    spec.grading = choice("grading", GRADING)
    spec.review = choice("review", REVIEW)
    spec.right_answers = choice("right_answers", RIGHT_ANSWERS)

    gradable = _gradable(questions)
    per_category = settings.get("per_category") or {}
    if not isinstance(per_category, dict):
        problem(N_("quiz: per_category must map category names to numbers"))
        per_category = {}
    counts: dict[str, int] = {}
    for q in gradable:
        counts[q.category] = counts.get(q.category, 0) + 1
    for category, n in per_category.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            problem(N_("quiz: per_category['%(category)s'] must be a whole number"), category=category)
        elif category not in counts:
            problem(N_("quiz: category '%(category)s' has no questions in %(bank)s"), category=category, bank=rel)
        elif counts[category] < n:
            problem(N_("quiz: category '%(category)s' draws %(n)s questions but %(bank)s has only %(count)s"),
                    category=category, n=n, bank=rel, count=counts[category])
    spec.per_category = {str(k): v for k, v in per_category.items() if isinstance(v, int)}
    if spec.per_category:
        if sum(spec.per_category.values()) != spec.questions_per_attempt:
            problem(N_("quiz: the per_category numbers must add up to questions_per_attempt"))
    elif len(gradable) < spec.questions_per_attempt:
        problem(N_("quiz: questions_per_attempt is %(n)s but %(bank)s has only %(count)s questions"),
                n=spec.questions_per_attempt, bank=rel, count=len(gradable))
    return spec if len(problems) == before else None
