"""Question text through the lesson pipeline: one sanitiser for lessons and questions."""
from __future__ import annotations

import html
import re

from ..content import render_markdown, render_plain, sanitize
from . import gift


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


def question_data(q: gift.Question) -> dict:
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
