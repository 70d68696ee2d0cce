"""A course's whole source as one JSON value: what a draft and a published version hold.

::

    {"files": {"course.md": "...", "01-lesson.md": "...", ...},   # Markdown, as written
     "bank": {"name": "bank.gift", "text": "..."} or None,         # GIFT, as written
     "attachments": {"form.pdf": {"sha256": "...", "content_type": "...", "size": 1234}}}

Attachments are named by the SHA-256 of their content (kept in the blob table).
Pure: no Flask, no database.
"""
from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass

from ..catalog.loader import _LESSON_FILE_RE, parse_document
from ..content import slugify


def empty() -> dict:
    return {"files": {}, "bank": None, "attachments": {}}


def clone(snapshot: dict) -> dict:
    return copy.deepcopy(snapshot)


def course_files(snapshot: dict) -> dict[str, bytes | str]:
    """The course folder as the loader reads it: Markdown as bytes, attachments by SHA-256."""
    files: dict[str, bytes | str] = {name: text.encode("utf-8") for name, text in snapshot["files"].items()}
    for name, info in snapshot["attachments"].items():
        files[f"attachments/{name}"] = info["sha256"]
    return files


def banks(snapshot: dict) -> dict[str, bytes]:
    bank = snapshot.get("bank")
    return {bank["name"]: bank["text"].encode("utf-8")} if bank else {}


def lesson_names(snapshot: dict) -> list[str]:
    return sorted(name for name in snapshot["files"] if name != "course.md")


def front_matter(text: str) -> dict:
    doc = parse_document(text.lstrip("\ufeff").replace("\r\n", "\n"), "", [])
    return doc.meta if doc else {}


def split_body(text: str) -> str:
    """The Markdown after the front matter (all of it when there is none)."""
    doc = parse_document(text.lstrip("\ufeff").replace("\r\n", "\n"), "", [])
    return doc.body if doc else text


def set_front_matter_value(text: str, key: str, value) -> str:
    """Change (or add) one top-level ``key: value`` line of the front matter, nothing else."""
    lines = text.split("\n")
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        return text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in {"---", "..."}), None)
    if end is None:
        return text
    for i in range(1, end):
        if re.match(rf"^{re.escape(key)}\s*:", lines[i]):
            lines[i] = f"{key}: {value}"
            return "\n".join(lines)
    lines.insert(end, f"{key}: {value}")
    return "\n".join(lines)


def ordered_lessons(snapshot: dict) -> list[tuple[str, int, str]]:
    """(file name, order, title) of the draft's lessons, in the order learners see them."""
    rows = []
    for name in lesson_names(snapshot):
        meta = front_matter(snapshot["files"][name])
        match = _LESSON_FILE_RE.match(name)
        default = int(match.group(1)) if match and match.group(1) else 0
        order = meta.get("order", default)
        rows.append((name, order if isinstance(order, int) and not isinstance(order, bool) else default,
                     str(meta.get("title") or name)))
    return sorted(rows, key=lambda row: (row[1], row[0]))


def move_lesson(snapshot: dict, name: str, step: int) -> bool:
    """Swap a lesson with its neighbour (step -1: earlier, +1: later); orders become 1..n."""
    rows = ordered_lessons(snapshot)
    names = [row[0] for row in rows]
    if name not in names:
        return False
    i = names.index(name)
    j = i + step
    if not 0 <= j < len(names):
        return False
    names[i], names[j] = names[j], names[i]
    for position, lesson in enumerate(names, start=1):
        snapshot["files"][lesson] = set_front_matter_value(snapshot["files"][lesson], "order", position)
    return True


def new_lesson_name(snapshot: dict, title: str) -> tuple[str, int]:
    """A file name and order for a new lesson placed last."""
    rows = ordered_lessons(snapshot)
    order = (max((row[1] for row in rows), default=0) or len(rows)) + 1
    base = slugify(title)[:60].strip("-") or "bai"
    base = re.sub(r"[^a-z0-9-]", "", base.lower()) or "bai"
    name = f"{order:02d}-{base}.md"
    n = 2
    while name in snapshot["files"]:
        name = f"{order:02d}-{base}-{n}.md"
        n += 1
    return name, order


def lesson_template(title: str, order: int) -> str:
    safe_title = title.replace('"', "'")
    return f'---\ntitle: "{safe_title}"\norder: {order}\n---\n'


# --- GIFT questions one by one -------------------------------------------------

@dataclass(frozen=True)
class GiftBlock:
    number: int  # 1-based, in the bank's order
    first_line: int  # 1-based line in the bank
    last_line: int
    text: str


def gift_blocks(text: str) -> list[GiftBlock]:
    """The bank's questions as the GIFT reader separates them (blank lines), each with its
    lines; leading comment and $CATEGORY lines stay outside the block."""
    lines = text.replace("\r\n", "\n").split("\n")
    blocks: list[GiftBlock] = []
    start = None
    last = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            if start is not None:
                blocks.append(GiftBlock(len(blocks) + 1, start, last, "\n".join(lines[start - 1:last])))
            start = None
            continue
        if start is None and (stripped.startswith("//") or stripped.startswith("$CATEGORY:")):
            continue
        if start is None:
            start = number
        last = number
    if start is not None:
        blocks.append(GiftBlock(len(blocks) + 1, start, last, "\n".join(lines[start - 1:last])))
    return blocks


def replace_gift_block(text: str, block: GiftBlock, new_text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    replacement = new_text.replace("\r\n", "\n").strip("\n").split("\n")
    return "\n".join(lines[: block.first_line - 1] + replacement + lines[block.last_line:])


# --- differences between two versions ----------------------------------------

@dataclass(frozen=True)
class FileDiff:
    name: str
    lines: list[str]


def _texts(snapshot: dict) -> dict[str, str]:
    texts = dict(snapshot["files"])
    if snapshot.get("bank"):
        texts[snapshot["bank"]["name"]] = snapshot["bank"]["text"]
    if snapshot["attachments"]:
        texts["attachments/"] = "".join(
            f"{name}  {info['size']} bytes  sha256:{info['sha256']}\n"
            for name, info in sorted(snapshot["attachments"].items()))
    return texts


def diff(old: dict, new: dict, old_label: str, new_label: str) -> list[FileDiff]:
    """A unified diff of every file that differs between two snapshots."""
    a, b = _texts(old), _texts(new)
    result = []
    for name in sorted(set(a) | set(b)):
        before, after = a.get(name, ""), b.get(name, "")
        if before == after:
            continue
        lines = list(difflib.unified_diff(
            before.splitlines(), after.splitlines(),
            fromfile=f"{old_label}/{name}" if name in a else "/dev/null",
            tofile=f"{new_label}/{name}" if name in b else "/dev/null", lineterm=""))
        result.append(FileDiff(name, lines))
    return result

