"""The attempt page: the attempt and its questions in one query; each question's fields
rendered once per process for the same content, choice order and language, and the
official's own answers marked into that on every request.

A question's fields depend only on its type, its text, its data, the order its choices are
shown in and the language of the page; the cache key holds all of them (the text and the
data as stored, not an id or a version number that could be reused), so a cached rendering
can never differ from a fresh one and every app server may keep its own copy. What differs
between officials (the slot's number, what they ticked, selected or typed) is written as
marks with a per-process random name and filled in on the way out.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import get_locale, gettext
from markupsafe import Markup, escape
from sqlalchemy import Text, bindparam, cast, select

from ..catalog.models import Course
from ..extensions import db
from .models import AttemptAnswer, Question, Quiz, QuizAttempt

_TEMPLATE = "quizzes/_question.html"
_MAX_ENTRIES = 2048  # a question's fields are ~1-2 KB; its key holds the stored text and data (~2 KB)
_TOKEN = "m" + secrets.token_hex(10)  # random per process: no question text can hold a mark
_MARK = re.compile(_TOKEN + r"([a-z])(\w*?)" + _TOKEN)

_cache: dict[tuple, tuple[str, tuple[str, ...]]] = {}


def _mark(kind: str, arg="") -> Markup:
    return Markup(f"{_TOKEN}{kind}{arg}{_TOKEN}")


@dataclass
class PageQuestion:
    slot: int
    legend: str  # "Question 3"
    body: Markup  # the question's text and fields, the official's answers marked


@dataclass
class AttemptPage:
    id: int
    user_id: int
    quiz_id: int
    number: int
    state: str
    deadline_at: datetime | None
    course_slug: str
    course_title: str
    rows: list  # slot, order, response, qtype, text_html, data (JSON text)


_PAGE = (select(QuizAttempt.user_id, QuizAttempt.quiz_id, QuizAttempt.number, QuizAttempt.state,
                QuizAttempt.deadline_at, Course.slug, Course.title, AttemptAnswer.slot, AttemptAnswer.order,
                AttemptAnswer.response, Question.qtype, Question.text_html,
                cast(Question.data, Text).label("data_text"))
         .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
         .join(Course, Course.id == Quiz.course_id)
         .join(AttemptAnswer, AttemptAnswer.attempt_id == QuizAttempt.id)
         .join(Question, Question.id == AttemptAnswer.question_id)
         .where(QuizAttempt.id == bindparam("attempt_id")).order_by(AttemptAnswer.slot))


def attempt_page(attempt_id: int, user_id: int) -> AttemptPage | None:
    """The attempt with its course and its slots, in one query; None if it is not the official's."""
    rows = db.session.connection().execute(_PAGE, {"attempt_id": attempt_id}).all()
    if not rows or rows[0].user_id != user_id:
        return None
    first = rows[0]
    return AttemptPage(attempt_id, first.user_id, first.quiz_id, first.number, first.state, first.deadline_at,
                       first.slug, first.title, rows)


def _fields(qtype: str, text_html: str, data_text: str, order: tuple[int, ...], locale: str):
    key = (locale, qtype, text_html, data_text, order)
    cached = _cache.get(key)
    if cached is None:
        data = json.loads(data_text) if data_text else {}
        data = data or {}
        template = current_app.jinja_env.get_template(_TEMPLATE)
        html = template.render(qtype=qtype, text_html=text_html, data=data, order=order, mark=_mark)
        cached = (html, tuple(data.get("rights", ())) if qtype == "matching" else ())
        if len(_cache) >= _MAX_ENTRIES:
            _cache.clear()
        _cache[key] = cached
    return cached


def _filled(html: str, rights: tuple[str, ...], slot: int, response: dict | None) -> Markup:
    r = response or {}

    def fill(match: re.Match) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "n":
            return f"q{slot}"
        if kind == "c":  # a choice of a multichoice question, by its index in the bank
            return " checked" if r.get("choice") == int(arg) else ""
        if kind == "r":  # a choice of a multiresponse question
            return " checked" if int(arg) in r.get("choices", []) else ""
        if kind == "t":
            return " checked" if r.get("value") == (arg == "true") else ""
        if kind == "v":
            return str(escape(r.get("text", "")))
        if kind == "s":  # an option of a matching pair: "<pair>_<index of the right-hand text>"
            pair, index = arg.split("_")
            chosen = (r.get("matches") or {}).get(pair)
            return " selected" if chosen == rights[int(index)] else ""
        raise ValueError(f"unknown mark {kind}")

    return Markup(_MARK.sub(fill, html))


_legends: dict[tuple[str, int], str] = {}


def _legend(locale: str, slot: int) -> str:
    legend = _legends.get((locale, slot))
    if legend is None:
        if len(_legends) >= 1000:
            _legends.clear()
        legend = _legends[(locale, slot)] = gettext("Question %(n)d", n=slot)
    return legend


def page_questions(page: AttemptPage) -> list[PageQuestion]:
    locale = str(get_locale())
    out = []
    for row in page.rows:
        html, rights = _fields(row.qtype, row.text_html or "", row.data_text or "", tuple(row.order or ()), locale)
        out.append(PageQuestion(row.slot, _legend(locale, row.slot), _filled(html, rights, row.slot, row.response)))
    return out
