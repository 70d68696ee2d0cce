"""Moodle's GIFT question format: parse to dataclasses and export back. Pure.

Follows what Moodle's GIFT import accepts: questions separated by blank
lines, ``//`` comment lines, ``$CATEGORY:`` lines, ``::name::``, text
formats ``[html]`` ``[markdown]`` ``[plain]`` ``[moodle]``, one answer block
``{...}`` (in the middle of the text for missing-word questions), per-answer
feedback ``#`` and general feedback ``####``, escapes ``\\~ \\= \\# \\{ \\} \\:
\\\\`` and ``\\n``. Type detection is Moodle's, in Moodle's order.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

TYPES = ("multichoice", "multiresponse", "truefalse", "shortanswer", "numerical", "matching",
         "essay", "description")
FORMATS = ("moodle", "html", "markdown", "plain")
GAP = "_____"

# Escaped characters are swapped for private-use code points while parsing,
# so that no escaped character is ever taken for syntax.
_ESCAPES = {"\\": "\ue000", "~": "\ue001", "=": "\ue002", "#": "\ue003", "{": "\ue004",
            "}": "\ue005", ":": "\ue006"}
_NEWLINE = "\ue007"
_UNESCAPE = {v: k for k, v in _ESCAPES.items()}
_UNESCAPE[_NEWLINE] = "\n"
_FORMAT_RE = re.compile(r"^\s*\[(moodle|html|markdown|plain)\]", re.IGNORECASE)
_WEIGHT_RE = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


@dataclass
class Answer:
    text: str
    fraction: float
    feedback: str = ""
    value: float | None = None
    tolerance: float | None = None
    min: float | None = None
    max: float | None = None
    match: str | None = None


@dataclass
class Question:
    type: str
    name: str
    text: str
    text_format: str = "moodle"
    category: str = ""
    general_feedback: str = ""
    answers: list[Answer] = field(default_factory=list)
    correct: bool | None = None
    line: int = field(default=0, compare=False)
    missing_word: bool = False


@dataclass(frozen=True)
class GiftProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class GiftError(ValueError):
    def __init__(self, problems: list[GiftProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Bad(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


# --- parsing --------------------------------------------------------------

def _protect(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "n":
                out.append(_NEWLINE)
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _restore(text: str) -> str:
    return "".join(_UNESCAPE.get(ch, ch) for ch in text)


def _clean(text: str) -> str:
    return _restore(text.strip())


def _split_format(text: str) -> tuple[str, str | None]:
    match = _FORMAT_RE.match(text)
    if not match:
        return text, None
    return text[match.end():], match.group(1).lower()


def _number(text: str, what: str) -> float:
    try:
        value = float(_restore(text).strip())
    except ValueError:
        raise _Bad(f"{what} '{_restore(text).strip()}' is not a number") from None
    if not math.isfinite(value):
        raise _Bad(f"{what} must be a finite number")
    return value


def _weight(part: str, default: float) -> tuple[float, str]:
    match = _WEIGHT_RE.match(part)
    if not match:
        if part.startswith("%"):
            raise _Bad(f"bad weight in '{_restore(part)[:40]}': write it as %50% or %-100%")
        return default, part
    value = float(match.group(1))
    if not -100 <= value <= 100:
        raise _Bad(f"weight {match.group(1)}% is outside -100%..100%")
    return value / 100.0, part[match.end():]


def _feedback(part: str) -> tuple[str, str]:
    if "#" in part:
        body, fb = part.split("#", 1)
        return body, _clean(_split_format(fb)[0])
    return part, ""


def _split_marked(text: str, markers: str) -> list[tuple[str, str]]:
    """Split 'answers' text at unescaped marker characters: [(marker, body), ...]."""
    parts: list[tuple[str, str]] = []
    current_mark, buf = None, []
    for ch in text:
        if ch in markers:
            if current_mark is not None:
                parts.append((current_mark, "".join(buf)))
            elif "".join(buf).strip():
                raise _Bad(f"text before the first answer: '{_restore(''.join(buf)).strip()[:40]}'")
            current_mark, buf = ch, []
        else:
            buf.append(ch)
    if current_mark is not None:
        parts.append((current_mark, "".join(buf)))
    return parts


def _choice_answers(block: str) -> list[Answer]:
    answers = []
    for mark, body in _split_marked(block, "=~"):
        fraction, body = _weight(body.strip(), 1.0 if mark == "=" else 0.0)
        body, fb = _feedback(body)
        text = _clean(_split_format(body.strip())[0])
        if not text:
            raise _Bad("an answer is empty")
        answers.append(Answer(text=text, fraction=fraction, feedback=fb))
    return answers


def _numerical_answers(block: str) -> list[Answer]:
    block = block[1:].strip()  # the leading '#'
    parts = _split_marked(block, "=") if block.startswith("=") else [("=", block)]
    answers = []
    for _mark, body in parts:
        fraction, body = _weight(body.strip(), 1.0)
        body, fb = _feedback(body)
        spec = body.strip()
        if not spec:
            raise _Bad("a numerical answer is empty")
        if ".." in spec:
            low, high = spec.split("..", 1)
            lo, hi = _number(low, "range start"), _number(high, "range end")
            if lo > hi:
                raise _Bad(f"range {_restore(spec)} runs backwards")
            answers.append(Answer(text=f"{_fmt(lo)}..{_fmt(hi)}", fraction=fraction, feedback=fb, min=lo, max=hi))
        else:
            value_text, _, tol_text = spec.partition(":")
            value = _number(value_text, "numerical answer")
            tol = _number(tol_text, "tolerance") if tol_text.strip() else 0.0
            answers.append(Answer(text=f"{_fmt(value)}:{_fmt(abs(tol))}", fraction=fraction, feedback=fb,
                                  value=value, tolerance=abs(tol)))
    return answers


def _matching_answers(block: str) -> list[Answer]:
    answers = []
    for _mark, body in _split_marked(block, "="):
        if "->" not in body:
            raise _Bad(f"matching pair '{_restore(body).strip()[:40]}' has no ->")
        left, right = body.split("->", 1)
        right, _fb = _feedback(right)
        left_text = _clean(_split_format(left.strip())[0])
        right_text = _clean(right)
        if not right_text:
            raise _Bad("a matching pair has nothing after ->")
        answers.append(Answer(text=left_text, fraction=1.0 if left_text else 0.0, match=right_text))
    if sum(1 for a in answers if a.text) < 2:
        raise _Bad("a matching question needs at least two pairs")
    return answers


def _find_block(text: str) -> tuple[int, int] | None:
    start = text.find("{")
    end = text.find("}")
    if start == -1 and end == -1:
        return None
    if start == -1 or end == -1 or end < start:
        raise _Bad("unbalanced braces: an answer block needs both { and }")
    if "{" in text[start + 1:end]:
        raise _Bad("an answer block is opened twice")
    if "{" in text[end + 1:] or "}" in text[end + 1:]:
        raise _Bad("only one answer block is allowed per question")
    return start, end


def _default_name(text: str) -> str:
    plain = re.sub(r"<[^>]*>", " ", text)
    plain = " ".join(plain.split())
    return plain[:80] or "question"


def _parse_question(raw: str, category: str, line: int) -> Question:
    text = _protect(raw).strip()
    name = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end == -1:
            raise _Bad("the question name is not closed with ::")
        name = _clean(text[2:end])
        text = text[end + 2:].strip()
    text, fmt = _split_format(text)
    fmt = fmt or "moodle"
    block = _find_block(text)
    if block is None:
        body = _clean(text)
        if not body:
            raise _Bad("the question has no text")
        return Question("description", name or _default_name(body), body, fmt, category, line=line)
    start, end = block
    answer_text = text[start + 1:end].strip()
    before, after = text[:start], text[end + 1:]
    missing_word = bool(after.strip())
    # As Moodle does: the block is replaced in place by the gap, spaces as written.
    question_text = _restore((before + GAP + after).strip()) if missing_word else _clean(before)
    general = ""
    if "####" in answer_text:
        answer_text, general = answer_text.split("####", 1)
        answer_text = answer_text.strip()
        general = _clean(_split_format(general)[0])
    q = Question("essay", name, question_text, fmt, category, general, line=line, missing_word=missing_word)
    if not answer_text:
        q.type = "essay"
    elif answer_text.startswith("#"):
        q.type = "numerical"
        q.answers = _numerical_answers(answer_text)
    elif "~" in answer_text:
        q.answers = _choice_answers(answer_text)
        q.type = "multichoice" if "=" in answer_text else "multiresponse"
        if len(q.answers) < 2:
            raise _Bad("a multiple-choice question needs at least two answers")
    elif "=" in answer_text and "->" in answer_text:
        q.type = "matching"
        q.answers = _matching_answers(answer_text)
    else:
        head, fb_wrong, fb_right = answer_text, "", ""
        if "#" in answer_text:
            head, rest = answer_text.split("#", 1)
            fb_wrong, _, fb_right = rest.partition("#")
        flag = _restore(head).strip().lower()
        if flag in ("t", "true", "f", "false"):
            q.type = "truefalse"
            q.correct = flag in ("t", "true")
            fb_wrong = _clean(_split_format(fb_wrong)[0])
            fb_right = _clean(_split_format(fb_right)[0])
            q.answers = [Answer("true", 1.0 if q.correct else 0.0, fb_right if q.correct else fb_wrong),
                         Answer("false", 0.0 if q.correct else 1.0, fb_wrong if q.correct else fb_right)]
        else:
            q.type = "shortanswer"
            if not answer_text.startswith("="):
                raise _Bad(f"cannot tell the question type from '{{{_restore(answer_text)[:40]}}}'")
            q.answers = _choice_answers(answer_text)
    if not q.text and not missing_word:
        raise _Bad("the question has no text")
    if not q.name:
        q.name = _default_name(q.text)
    if q.type in ("multichoice", "multiresponse", "shortanswer", "numerical") and \
            not any(a.fraction > 0 for a in q.answers):
        raise _Bad("no answer gives any credit")
    return q


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GiftError([GiftProblem(filename, line, "file is not valid UTF-8")]) from None


def parse_gift(text: str | bytes, filename: str = "<gift>") -> list[Question]:
    """Parse a GIFT file. Every problem is collected, then raised together as GiftError."""
    if isinstance(text, bytes):
        text = _decode(text, filename)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    questions: list[Question] = []
    problems: list[GiftProblem] = []
    category = ""
    chunk: list[str] = []
    chunk_line = 0

    def flush() -> None:
        nonlocal chunk
        if chunk:
            try:
                questions.append(_parse_question("\n".join(chunk), category, chunk_line))
            except _Bad as exc:
                problems.append(GiftProblem(filename, exc.line or chunk_line, str(exc)))
        chunk = []

    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if stripped.startswith("//"):
            continue
        if stripped.startswith("$CATEGORY:") and not chunk:
            category = stripped[len("$CATEGORY:"):].strip()
            continue
        if not chunk:
            chunk_line = number
        chunk.append(line)
    flush()
    if problems:
        raise GiftError(problems)
    return questions


# --- export ---------------------------------------------------------------

def _fmt(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def escape(text: str) -> str:
    out = text.replace("\\", "\\\\")
    for ch in "~=#{}:":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", "\\n")


def _weight_text(fraction: float) -> str:
    return f"%{_fmt(round(fraction * 100, 5))}%"


def _fb(text: str) -> str:
    return f"#{escape(text)}" if text else ""


def _answers_block(q: Question) -> str:
    if q.type == "essay":
        return ""
    if q.type == "truefalse":
        right = next((a for a in q.answers if (a.text == "true") == bool(q.correct)), None)
        wrong = next((a for a in q.answers if (a.text == "true") != bool(q.correct)), None)
        out = "TRUE" if q.correct else "FALSE"
        fb_wrong, fb_right = (wrong.feedback if wrong else ""), (right.feedback if right else "")
        if fb_wrong or fb_right:
            out += f"#{escape(fb_wrong)}"
            if fb_right:
                out += f"#{escape(fb_right)}"
        return out
    if q.type == "numerical":
        parts = []
        for a in q.answers:
            spec = f"{_fmt(a.min)}..{_fmt(a.max)}" if a.min is not None else \
                f"{_fmt(a.value)}:{_fmt(a.tolerance or 0.0)}"
            weight = "" if a.fraction == 1.0 else _weight_text(a.fraction)
            parts.append(f"={weight}{spec}{_fb(a.feedback)}")
        return "#" + " ".join(parts)
    if q.type == "matching":
        return " ".join(f"={escape(a.text)} -> {escape(a.match or '')}" for a in q.answers)
    if q.type == "shortanswer":
        return " ".join(
            f"={'' if a.fraction == 1.0 else _weight_text(a.fraction)}{escape(a.text)}{_fb(a.feedback)}"
            for a in q.answers)
    if q.type == "multichoice":
        best = max(range(len(q.answers)), key=lambda i: q.answers[i].fraction)
        parts = []
        for i, a in enumerate(q.answers):
            if i == best or a.fraction == 1.0:
                mark = "=" + ("" if a.fraction == 1.0 else _weight_text(a.fraction))
            else:
                mark = "~" + ("" if a.fraction == 0.0 else _weight_text(a.fraction))
            parts.append(f"{mark}{escape(a.text)}{_fb(a.feedback)}")
        return " ".join(parts)
    if q.type == "multiresponse":
        return " ".join(f"~{'' if a.fraction == 0.0 else _weight_text(a.fraction)}{escape(a.text)}{_fb(a.feedback)}"
                        for a in q.answers)
    raise ValueError(f"cannot export question type {q.type}")


def export_question(q: Question) -> str:
    head = f"::{escape(q.name)}::"
    if q.text_format != "moodle":
        head += f"[{q.text_format}]"
    if q.type == "description":
        return head + escape(q.text)
    block = _answers_block(q)
    if q.general_feedback:
        block += f"####{escape(q.general_feedback)}"
    if q.missing_word and GAP in q.text:
        before, after = q.text.split(GAP, 1)
        return f"{head}{escape(before)}{{{block}}}{escape(after)}"
    return f"{head}{escape(q.text)} {{{block}}}"


def export_gift(questions: list[Question]) -> str:
    out: list[str] = []
    category = None
    for q in questions:
        if q.category != category and (q.category or category is not None):
            out.append(f"$CATEGORY: {q.category}\n")
            category = q.category
        out.append(export_question(q) + "\n")
    return "\n".join(out)


def question_to_dict(q: Question) -> dict:
    if q.type == "matching":
        answers = [{"text": f"{a.text} -> {a.match}", "fraction": float(a.fraction), "feedback": a.feedback}
                   for a in q.answers]
    else:
        answers = [{"text": a.text, "fraction": float(a.fraction), "feedback": a.feedback} for a in q.answers]
    return {"name": q.name, "type": q.type, "category": q.category, "text": q.text,
            "general_feedback": q.general_feedback, "answers": answers}
