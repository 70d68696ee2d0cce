"""Moodle's GIFT question format: parse to dataclasses and export back. Pure.

Reads a file the way Moodle's GIFT import (qformat_gift) does: questions
separated by blank lines, ``//`` comment lines, ``$CATEGORY:`` lines,
``::name::``, text formats ``[html]`` ``[markdown]`` ``[plain]`` ``[moodle]``,
one answer block ``{...}`` (in the middle of the text for missing-word
questions), per-answer feedback ``#`` and general feedback ``####``, escapes
``\\~ \\= \\# \\{ \\} \\: \\\\`` and ``\\n``. Type detection is Moodle's, in
Moodle's order. Where Moodle would silently import nonsense (an empty answer,
a numerical answer that is not a number, a second answer block) we stop with
a ``FILE:LINE: message`` problem instead.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field

from ..messages import N_, format_message

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
_FORMAT_RE = re.compile(r"\[(moodle|html|markdown|plain)\]")  # only at the very start, lower case
_WEIGHT_RE = re.compile(r"%(-?\d+(?:\.\d*)?)%", re.ASCII)


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
    message: str  # English, for the command line
    template: str = field(default="", compare=False)  # for pages in the reader's language
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class GiftError(ValueError):
    def __init__(self, problems: list[GiftProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Bad(Exception):
    def __init__(self, template: str, line: int | None = None, **params):
        super().__init__(format_message(template, params))
        self.template = template
        self.params = params
        self.line = line


# --- parsing --------------------------------------------------------------
#
# The steps follow Moodle's qformat_gift::readquestion: escapes are protected,
# the ::name:: is cut off, the first {...} is the answer block, the last ####
# in it starts the general feedback, and the type is chosen in Moodle's order
# (description, essay, numerical, '~' multiple choice, '=' with '->' matching,
# T/TRUE/F/FALSE true/false, otherwise short answer).

# PHP's trim(): Moodle never strips other (Unicode) white space.
_TRIM = " \t\n\r\0\x0b"
_PHP_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)  # is_numeric
TRUE_FALSE = ("T", "TRUE", "F", "FALSE")
ANY_NUMBER = sys.float_info.max  # min/max of the numerical '*' answer (any number)


def _trim(text: str) -> str:
    return text.strip(_TRIM)


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


def _split_format(text: str) -> tuple[str, str | None]:
    """A leading [moodle] [html] [markdown] or [plain] (exactly, lower case) sets the format."""
    match = _FORMAT_RE.match(text)
    if not match:
        return text, None
    return text[match.end():], match.group(1)


def _text(raw: str) -> str:
    """Moodle's parse_text_with_format: drop a leading [format], unescape, then trim."""
    return _trim(_restore(_split_format(raw)[0]))


def _number(text: str, what: str) -> float:
    shown = _trim(_restore(text))
    if not _PHP_NUMBER_RE.fullmatch(shown):
        raise _Bad(N_("%(what)s '%(value)s' is not a number"), what=what, value=shown[:40])
    value = float(shown)
    if not math.isfinite(value):
        raise _Bad(N_("%(what)s must be a finite number"), what=what)
    return value


def _weight(part: str, default: float) -> tuple[float, str]:
    """A leading %weight%; text that only looks like one stays answer text, as in Moodle."""
    match = _WEIGHT_RE.match(part)
    if not match:
        return default, part
    value = float(match.group(1))
    if not -100 <= value <= 100:
        raise _Bad(N_("weight %(weight)s%% is outside -100%%..100%%"), weight=match.group(1))
    return value / 100.0, part[match.end():]


def _answer_and_feedback(part: str) -> tuple[str, str]:
    """Moodle's commentparser: the first '#' starts the feedback."""
    body, _, feedback = part.partition("#")
    return _text(_trim(body)), _text(_trim(feedback))


def _explode(block: str, markers: str) -> list[tuple[str, str]]:
    """Split at every marker character: [(marker, body), ...].

    As in Moodle, text before the first marker is an answer too, unless it is blank.
    """
    parts: list[tuple[str, str]] = []
    mark, start = "", 0
    for i, ch in enumerate(block):
        if ch in markers:
            parts.append((mark, block[start:i]))
            mark, start = ch, i + 1
    parts.append((mark, block[start:]))
    if not _trim(parts[0][1]):
        parts.pop(0)
    return parts


def _choice_answers(block: str) -> list[Answer]:
    answers = []
    for mark, body in _explode(block, "=~"):
        fraction, body = _weight(_trim(body), 1.0 if mark == "=" else 0.0)
        text, feedback = _answer_and_feedback(body)
        if not text:
            raise _Bad(N_("an answer is empty"))
        answers.append(Answer(text=text, fraction=fraction, feedback=feedback))
    if len(answers) < 2:
        raise _Bad(N_("a multiple-choice question needs at least two answers"))
    return answers


def _short_answers(block: str) -> list[Answer]:
    answers = []
    for _mark, body in _explode(block, "="):
        fraction, body = _weight(_trim(body), 1.0)
        text, feedback = _answer_and_feedback(body)
        if not text:
            raise _Bad(N_("an answer is empty"))
        answers.append(Answer(text=text, fraction=fraction, feedback=feedback))
    return answers


def _any_number(fraction: float, feedback: str) -> Answer:
    return Answer(text="*", fraction=fraction, feedback=feedback, min=-ANY_NUMBER, max=ANY_NUMBER)


def _numerical_answers(block: str) -> list[Answer]:
    block = block[1:]  # the leading '#'
    # Everything from the first '~' is the feedback for any other number.
    block, tilde, other = block.partition("~")
    answers = []
    for _mark, body in _explode(block, "="):
        fraction, body = _weight(_trim(body), 1.0)
        spec, feedback = _answer_and_feedback(body)
        if not spec:
            raise _Bad(N_("a numerical answer is empty"))
        if spec == "*":
            answers.append(_any_number(fraction, feedback))
        elif spec.find("..") > 0:
            low, high = spec.split("..", 1)
            lo, hi = sorted((_number(low, N_("range start")), _number(high, N_("range end"))))
            answers.append(Answer(text=f"{_fmt(lo)}..{_fmt(hi)}", fraction=fraction, feedback=feedback,
                                  min=lo, max=hi))
        else:
            value_text, tol_text = (spec.split(":", 1) if spec.find(":") > 0 else (spec, "0"))
            value = _number(value_text, N_("numerical answer"))
            tol = abs(_number(tol_text, N_("tolerance")))
            answers.append(Answer(text=f"{_fmt(value)}:{_fmt(tol)}", fraction=fraction, feedback=feedback,
                                  value=value, tolerance=tol))
    if not answers:
        raise _Bad(N_("a numerical question needs at least one answer"))
    if tilde:
        answers.append(_any_number(0.0, _answer_and_feedback(other)[1]))
    return answers


def _matching_answers(block: str) -> list[Answer]:
    answers = []
    for _mark, body in _explode(block, "="):
        body = _trim(body)
        if "->" not in body:
            raise _Bad(N_("matching pair '%(pair)s' has no ->"), pair=_restore(body)[:40])
        left, right = body.split("->", 1)
        # The right-hand side is plain text: no [format], no '#' feedback (as in Moodle).
        left_text, right_text = _text(left), _trim(_restore(right))
        if not right_text:
            raise _Bad(N_("a matching pair has nothing after ->"))
        answers.append(Answer(text=left_text, fraction=1.0 if left_text else 0.0, match=right_text))
    if len(answers) < 2 or not any(a.text for a in answers):
        raise _Bad(N_("a matching question needs at least two pairs (one may be a '= -> extra' distractor)"))
    return answers


def _true_false(q: Question, block: str) -> None:
    parts = block.split("#", 2) + ["", ""]
    flag, wrong, right = _text(_trim(parts[0])), _text(_trim(parts[1])), _text(_trim(parts[2]))
    q.type = "truefalse"
    q.correct = flag in ("T", "TRUE")
    q.answers = [Answer("true", 1.0 if q.correct else 0.0, right if q.correct else wrong),
                 Answer("false", 0.0 if q.correct else 1.0, wrong if q.correct else right)]


def _find_block(text: str) -> tuple[int, int] | None:
    start = text.find("{")
    end = text.find("}")
    if start == -1 and end == -1:
        return None
    if start == -1 or end == -1 or end < start:
        raise _Bad(N_("unbalanced braces: an answer block needs both { and } (write \\{ \\} for braces in text)"))
    if "{" in text[start + 1:end]:
        raise _Bad(N_("an answer block is opened twice (write \\{ for a brace in text)"))
    if "{" in text[end + 1:] or "}" in text[end + 1:]:
        raise _Bad(N_("only one answer block is allowed per question (separate questions with a blank line)"))
    return start, end


_TAG_RE = re.compile(r"<(?![\s<])[^>]*(?:>|$)")


def _default_name(text: str) -> str:
    """Moodle's default name: the text shortened to 80 characters, tags stripped."""
    plain = _TAG_RE.sub("", text)
    if len(plain) > 80:
        # Moodle's shorten_text: cut after the last space or '.' (or any character
        # of three or more UTF-8 bytes) within 77 characters, then add '...'.
        cut = 77
        while cut > 0:
            ch = plain[cut]
            if ch in ". " or len(ch.encode("utf-8")) > 2:
                cut += 1
                break
            cut -= 1
        if cut == 0 or cut > 77:
            cut = 77
        plain = plain[:cut] + "..."
    return _trim(plain) or "question"


def _parse_question(raw: str, category: str, line: int) -> Question:
    text = _protect(_trim(raw))
    name = ""
    if text.startswith("::"):
        text = text[2:]
        end = text.find("::")
        if end != -1:  # without a closing '::' Moodle drops the '::' and names the question itself
            name = _trim(_restore(text[:end]))
            text = _trim(text[end + 2:])
    block = _find_block(text)
    if block is None:
        body, fmt = _split_format(text)
        body = _trim(_restore(body))
        if not body:
            raise _Bad(N_("the question has no text"))
        return Question("description", name or _default_name(body), body, fmt or "moodle", category, line=line)
    start, end = block
    answer_text = _trim(text[start + 1:end])
    # Text after the block makes a missing-word question: the block becomes the gap.
    missing_word = not text.endswith("}")
    question_text = text[:start] + (GAP if missing_word else "") + text[end + 1:]
    question_text, fmt = _split_format(question_text)
    general = ""
    gf_at = answer_text.rfind("####")  # the last '####', as in Moodle
    if gf_at != -1:
        general = _text(answer_text[gf_at + 4:])
        answer_text = _trim(answer_text[:gf_at])
    q = Question("essay", name, _trim(_restore(question_text)), fmt or "moodle", category, general,
                 line=line, missing_word=missing_word)
    if not answer_text:
        q.type = "essay"
    elif answer_text.startswith("#"):
        q.type = "numerical"
        q.answers = _numerical_answers(answer_text)
    elif "~" in answer_text:
        q.type = "multichoice" if "=" in answer_text else "multiresponse"
        q.answers = _choice_answers(answer_text)
    elif "=" in answer_text and "->" in answer_text:
        q.type = "matching"
        q.answers = _matching_answers(answer_text)
    elif _trim(answer_text.partition("#")[0]) in TRUE_FALSE:  # case-sensitive, as in Moodle
        _true_false(q, answer_text)
    else:
        q.type = "shortanswer"
        q.answers = _short_answers(answer_text)
    if not q.text and not missing_word:
        raise _Bad(N_("the question has no text"))
    if not q.name:
        q.name = _default_name(q.text)
    if q.type in ("multichoice", "multiresponse", "shortanswer", "numerical") and \
            not any(a.fraction > 0 for a in q.answers):
        raise _Bad(N_("no answer gives any credit"))
    return q


def _decode(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GiftError([GiftProblem(filename, line, "file is not valid UTF-8", N_("file is not valid UTF-8"))]) from None


def parse_gift(text: str | bytes, filename: str = "<gift>") -> list[Question]:
    """Parse a GIFT file. Every problem is collected, then raised together as GiftError.

    Questions are separated by blank lines. A line starting with // is a comment
    (inside a question it counts as a line holding one space, as in Moodle). A
    $CATEGORY: line sets the category of the questions after it.
    """
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
                problems.append(GiftProblem(filename, exc.line or chunk_line, str(exc), exc.template, exc.params))
        chunk = []

    for number, line in enumerate(text.split("\n"), start=1):
        stripped = _trim(line)
        if not stripped:
            flush()
            continue
        if stripped.startswith("//"):
            if chunk:
                chunk.append(" ")
            continue
        if stripped.startswith("$CATEGORY:") and not chunk:
            category = _trim(stripped[len("$CATEGORY:"):])
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


def _formatted(text: str, fmt: str) -> str:
    """Escape a text that Moodle reads with parse_text_with_format.

    Text that itself starts with '[html]' (say) gets an explicit format in front,
    so that the reader does not take its start for the format.
    """
    prefix = f"[{fmt}]" if _FORMAT_RE.match(text) else ""
    return prefix + escape(text)


def _weight_text(fraction: float) -> str:
    return f"%{_fmt(round(fraction * 100, 5))}%"


def _weighted(fraction: float, default: float, text: str) -> str:
    """The %weight% in front of an answer; written when it is not the default, or when
    the answer itself starts with '%' (it would be read as a weight)."""
    return "" if fraction == default and not text.startswith("%") else _weight_text(fraction)


def _answers_block(q: Question) -> str:
    fmt = q.text_format

    def fb(text: str) -> str:
        return f"#{_formatted(text, fmt)}" if text else ""

    if q.type == "essay":
        return ""
    if q.type == "truefalse":
        right = next((a for a in q.answers if (a.text == "true") == bool(q.correct)), None)
        wrong = next((a for a in q.answers if (a.text == "true") != bool(q.correct)), None)
        out = "TRUE" if q.correct else "FALSE"
        fb_wrong, fb_right = (wrong.feedback if wrong else ""), (right.feedback if right else "")
        if fb_wrong or fb_right:
            out += f"#{_formatted(fb_wrong, fmt)}"
            if fb_right:
                out += f"#{_formatted(fb_right, fmt)}"
        return out
    if q.type == "numerical":
        parts = []
        for a in q.answers:
            if a.text == "*":
                spec = "*"
            elif a.min is not None:
                spec = f"{_fmt(a.min)}..{_fmt(a.max)}"
            else:
                spec = f"{_fmt(a.value)}:{_fmt(a.tolerance or 0.0)}"
            parts.append(f"={_weighted(a.fraction, 1.0, spec)}{spec}{fb(a.feedback)}")
        return "#" + " ".join(parts)
    if q.type == "matching":
        return " ".join(f"={_formatted(a.text, fmt)} -> {escape(a.match or '')}" for a in q.answers)
    if q.type == "shortanswer":
        return " ".join(f"={_weighted(a.fraction, 1.0, a.text)}{_formatted(a.text, fmt)}{fb(a.feedback)}"
                        for a in q.answers)
    if q.type == "multichoice":
        # One '=' (the best answer) makes it single choice; every other answer takes
        # '~' so that the block always holds a '~' (a block of '=' only is a short answer).
        best = max(range(len(q.answers)), key=lambda i: q.answers[i].fraction)
        parts = []
        for i, a in enumerate(q.answers):
            if i == best:
                mark = "=" + _weighted(a.fraction, 1.0, a.text)
            else:
                mark = "~" + _weighted(a.fraction, 0.0, a.text)
            parts.append(f"{mark}{_formatted(a.text, fmt)}{fb(a.feedback)}")
        return " ".join(parts)
    if q.type == "multiresponse":
        return " ".join(f"~{_weighted(a.fraction, 0.0, a.text)}{_formatted(a.text, fmt)}{fb(a.feedback)}"
                        for a in q.answers)
    raise ValueError(f"cannot export question type {q.type}")


def export_question(q: Question) -> str:
    head = f"::{escape(q.name)}::"
    text = escape(q.text)
    if q.text_format != "moodle" or _FORMAT_RE.match(q.text):
        head += f"[{q.text_format}]"
    if q.type == "description":
        return head + text
    block = _answers_block(q)
    if q.general_feedback:
        block += f"####{_formatted(q.general_feedback, q.text_format)}"
    if q.missing_word and GAP in q.text:
        before, after = q.text.split(GAP, 1)
        return f"{head}{escape(before)}{{{block}}}{escape(after)}"
    return f"{head}{text} {{{block}}}"


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
