"""Grading as Moodle does it. Pure: question data and a response in, a fraction out.

Question ``data`` (stored JSON, built at sync from the GIFT bank):

- multichoice / multiresponse / shortanswer:
  ``{"answers": [{"text", "html", "fraction", "feedback"}]}``
- truefalse: ``{"correct": bool, "feedback_true", "feedback_false"}``
- numerical: ``{"answers": [{"value", "tolerance", "min", "max", "fraction", "feedback"}]}``
- matching: ``{"pairs": [{"html", "right"}], "rights": [str]}`` (rights include distractors)
- essay, description: ``{}``

Responses (from the attempt form):
multichoice ``{"choice": i}``; multiresponse ``{"choices": [i, ...]}``;
truefalse ``{"value": bool}``; shortanswer/numerical/essay ``{"text": str}``;
matching ``{"matches": {"<pair index>": "<right text>"}}``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass


@dataclass
class Outcome:
    fraction: float | None  # 0..1; None when a person must grade it (essay)
    feedback: list[str]     # HTML snippets of the feedback that applies to the response
    answered: bool


def normalise_text(value: str) -> str:
    """NFC, case-folded, white space folded: Vietnamese typed on any keyboard compares equal."""
    value = unicodedata.normalize("NFC", value or "")
    return " ".join(value.casefold().split())


def _wildcard_match(pattern: str, response: str) -> bool:
    parts = [re.escape(normalise_text(p)) for p in pattern.split("*")]
    return re.fullmatch(".*".join(parts), response, flags=re.DOTALL) is not None


def parse_number(text: str) -> float | None:
    """Accept 92.5, 92,5 (Vietnamese decimal comma), 1 000, 1.000,5 and a trailing %."""
    value = (text or "").strip().replace("\u00a0", "").replace(" ", "").rstrip("%")
    if not value:
        return None
    if "," in value and "." in value:
        # The later separator is the decimal one: 1.234,5 or 1,234.5
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif value.count(",") == 1:
        value = value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _within(answer: dict, number: float) -> bool:
    if answer.get("min") is not None:
        low, high = answer["min"], answer["max"]
    else:
        tol = abs(answer.get("tolerance") or 0.0)
        low, high = answer["value"] - tol, answer["value"] + tol
    eps = 1e-9 * max(1.0, abs(low), abs(high))
    return low - eps <= number <= high + eps


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def grade(qtype: str, data: dict, response: dict | None) -> Outcome:
    response = response or {}
    if qtype == "description":
        return Outcome(0.0, [], True)
    if qtype == "essay":
        text = (response.get("text") or "").strip()
        return Outcome(None if text else 0.0, [], bool(text))
    if qtype == "multichoice":
        choice = response.get("choice")
        answers = data.get("answers", [])
        if not isinstance(choice, int) or not 0 <= choice < len(answers):
            return Outcome(0.0, [], False)
        answer = answers[choice]
        return Outcome(_clamp(answer["fraction"]), [answer["feedback"]] if answer.get("feedback") else [], True)
    if qtype == "multiresponse":
        answers = data.get("answers", [])
        chosen = sorted({c for c in response.get("choices") or [] if isinstance(c, int) and 0 <= c < len(answers)})
        if not chosen:
            return Outcome(0.0, [], False)
        total = sum(answers[c]["fraction"] for c in chosen)
        return Outcome(_clamp(total), [answers[c]["feedback"] for c in chosen if answers[c].get("feedback")], True)
    if qtype == "truefalse":
        value = response.get("value")
        if not isinstance(value, bool):
            return Outcome(0.0, [], False)
        feedback = data.get("feedback_true" if value else "feedback_false") or ""
        return Outcome(1.0 if value == data.get("correct") else 0.0, [feedback] if feedback else [], True)
    if qtype == "shortanswer":
        given = normalise_text(response.get("text") or "")
        if not given:
            return Outcome(0.0, [], False)
        # As Moodle: the first answer in the bank's order that matches decides.
        best = next((a for a in data.get("answers", []) if _wildcard_match(a["text"], given)), None)
        if best is None:
            return Outcome(0.0, [], True)
        return Outcome(_clamp(best["fraction"]), [best["feedback"]] if best.get("feedback") else [], True)
    if qtype == "numerical":
        number = parse_number(response.get("text") or "")
        if number is None:
            return Outcome(0.0, [], bool((response.get("text") or "").strip()))
        best = next((a for a in data.get("answers", []) if _within(a, number)), None)
        if best is None:
            return Outcome(0.0, [], True)
        return Outcome(_clamp(best["fraction"]), [best["feedback"]] if best.get("feedback") else [], True)
    if qtype == "matching":
        pairs = data.get("pairs", [])
        matches = response.get("matches") or {}
        if not pairs:
            return Outcome(0.0, [], False)
        right = sum(1 for i, pair in enumerate(pairs) if matches.get(str(i)) == pair["right"])
        return Outcome(right / len(pairs), [], any(matches.get(str(i)) for i in range(len(pairs))))
    raise ValueError(f"unknown question type {qtype}")
