"""What the review of a finished attempt shows: responses, feedback and right answers.

Two settings, as Moodle's review options: ``review`` decides when the official sees which
answers were right or wrong with the feedback on their own answers; ``right_answers``
decides when the right answers (and the general feedback, which states them) appear. By
default that is once the quiz is closed for the official: passed, or no attempt left.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .grading import grade
from .models import AttemptAnswer, AttemptState, Question, Quiz, QuizAttempt
from .results import QuizResult, quiz_result


@dataclass
class ReviewRights:
    feedback: bool  # which answers were wrong, and the feedback on the official's answers
    right_answers: bool  # the right answers and the general feedback


def review_rights(attempt: QuizAttempt, quiz: Quiz, result: QuizResult | None = None) -> ReviewRights:
    """What the review of this attempt may show its official now."""
    if attempt.state == AttemptState.IN_PROGRESS:
        return ReviewRights(False, False)
    result = result or quiz_result(attempt.user_id, quiz)
    feedback = result.passed if attempt.review == "after_pass" else True
    right = feedback and (quiz.right_answers == "after_attempt" and not result.in_progress or result.closed)
    return ReviewRights(feedback, right)


def may_review_answers(attempt: QuizAttempt, quiz: Quiz) -> bool:
    """Whether the right answers may be shown for this finished attempt."""
    return review_rights(attempt, quiz).right_answers


@dataclass
class ReviewItem:
    answer: AttemptAnswer
    response_html: str
    feedback: list[str]
    right_html: str
    general_html: str = ""


def _fmt_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _right_answer_html(question: Question) -> str:
    data, qtype = question.data, question.qtype
    if qtype == "shortanswer":
        # One accepted spelling, never the list of variants the grader also accepts.
        answers = [a for a in data.get("answers", []) if a["fraction"] > 0]
        top = max((a["fraction"] for a in answers), default=0)
        return next((a["html"] for a in answers if a["fraction"] == top), "")
    if qtype in ("multichoice", "multiresponse"):
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


def review_items(attempt: QuizAttempt, rights: ReviewRights) -> list[ReviewItem]:
    items = []
    for answer in attempt.answers:
        question = answer.question
        feedback = grade(question.qtype, question.data, answer.response).feedback if rights.feedback else []
        right = rights.right_answers
        items.append(ReviewItem(answer, _response_html(question, answer.response), feedback,
                                _right_answer_html(question) if right else "",
                                question.general_feedback_html if right else ""))
    return items
