"""Read courses/ into plain dataclasses. Pure: no Flask, no database.

Layout::

    courses/<slug>/course.md      front matter (title, summary, order,
                                  estimated_minutes, quiz) + overview
    courses/<slug>/NN-<name>.md   one lesson each (front matter: title, order)
    courses/<slug>/attachments/   files the lessons link to (PDF, DOCX, images...)
    courses/<page>.md             shared pages such as the glossary

The same reader (``read_course``) takes a course's files from the folder or
from memory (an upload, a draft kept in the database), so every source of
content is checked the same way.

Every problem in the tree is collected with its file and line, and reported
together, so one sync run shows everything an author must fix.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..messages import N_, format_message

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LESSON_FILE_RE = re.compile(r"^(?:(\d+)[-_])?([a-z0-9][a-z0-9-]*)\.md$")
_ATTACHMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")


@dataclass(frozen=True)
class ContentProblem:
    file: str
    line: int
    message: str  # English, for the command line
    template: str = field(default="", compare=False)  # the message's gettext template (see messages.N_)
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, file: str, line: int, template: str, **params) -> ContentProblem:
        return cls(file, line, format_message(template, params), template, params)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentError(ValueError):
    def __init__(self, problems: list[ContentProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class LessonSource:
    slug: str
    title: str
    order: int
    body: str
    path: str
    sha256: str
    file_name: str = ""  # the lesson's file name inside the course folder


@dataclass
class CourseSource:
    slug: str
    title: str
    summary: str
    order: int
    estimated_minutes: int
    overview: str
    quiz: dict
    path: str
    sha256: str
    lessons: list[LessonSource] = field(default_factory=list)
    attachments: dict[str, str] = field(default_factory=dict)  # name → SHA-256 of its content


@dataclass
class PageSource:
    slug: str
    title: str
    body: str
    path: str
    sha256: str


@dataclass
class Document:
    meta: dict
    body: str
    body_line: int  # 1-based line where the body starts


def _decode(data: bytes, rel: str, problems: list[ContentProblem]) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(ContentProblem.of(rel, line, N_("file is not valid UTF-8")))
        return None
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_document(text: str, rel: str, problems: list[ContentProblem]) -> Document | None:
    """Split YAML front matter from the Markdown body."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        problems.append(ContentProblem.of(rel, 1, N_("missing front matter (the file must start with ---)")))
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in {"---", "..."})
    except StopIteration:
        problems.append(ContentProblem.of(rel, 1, N_("front matter is not closed with ---")))
        return None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        # The start of the construct that failed (an unclosed bracket, say) is
        # where the author must look; fall back to where the parser stopped.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        reason = getattr(exc, "problem", None) or "invalid YAML"
        problems.append(ContentProblem.of(rel, line, N_("bad front matter: %(reason)s"), reason=reason))
        return None
    if not isinstance(meta, dict):
        problems.append(ContentProblem.of(rel, 2, N_("front matter must be a mapping of key: value")))
        return None
    return Document(meta=meta, body="\n".join(lines[end + 1:]).strip("\n") + "\n", body_line=end + 2)


def _meta_line(text: str, key: str) -> int:
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1


def _require_title(doc: Document, text: str, rel: str, problems: list[ContentProblem]) -> str | None:
    title = doc.meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(ContentProblem.of(rel, _meta_line(text, "title"), N_("missing title in front matter")))
        return None
    return title.strip()


def _int(doc: Document, key: str, default: int, text: str, rel: str, problems) -> int:
    value = doc.meta.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(ContentProblem.of(rel, _meta_line(text, key), N_("%(key)s must be a whole number ≥ 0"), key=key))
        return default
    return value


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_tree(root: str | Path, skip: set[str] | frozenset[str] = frozenset()
              ) -> tuple[list[CourseSource], list[PageSource]]:
    """Load every course and shared page under ``root``; raise ContentError on any problem.

    Course folders named in ``skip`` are not read at all (courses managed in the app).
    """
    root = Path(root)
    problems: list[ContentProblem] = []
    courses: list[CourseSource] = []
    pages: list[PageSource] = []

    def rel(path: Path) -> str:
        try:
            return str(path.relative_to(root.parent))
        except ValueError:
            return str(path)

    if not root.is_dir():
        raise ContentError([ContentProblem.of(str(root), 0, N_("courses folder not found"))])

    for path in sorted(root.glob("*.md")):
        r = rel(path)
        data = path.read_bytes()
        text = _decode(data, r, problems)
        doc = parse_document(text, r, problems) if text is not None else None
        if doc is None:
            continue
        title = _require_title(doc, text, r, problems)
        if title:
            pages.append(PageSource(path.stem, title, doc.body, r, _sha(data)))

    for course_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if course_dir.name in skip:
            continue
        course = read_course(course_dir.name, course_folder_files(course_dir), rel(course_dir), problems)
        if course is not None:
            courses.append(course)

    if problems:
        raise ContentError(problems)
    courses.sort(key=lambda c: (c.order, c.slug))
    return courses, pages


def course_folder_files(course_dir: Path) -> dict[str, bytes]:
    """The files of a course folder that belong to the course, by name inside the folder:
    its Markdown files and ``attachments/<name>``."""
    files = {path.name: path.read_bytes() for path in course_dir.glob("*.md") if path.is_file()}
    attachments = course_dir / "attachments"
    if attachments.is_dir():
        for path in attachments.iterdir():
            if path.is_file() and not path.name.startswith("."):
                files[f"attachments/{path.name}"] = path.read_bytes()
    return files


def parse_course(slug: str, files: dict[str, bytes | str], prefix: str | None = None) -> CourseSource:
    """One course from its files in memory (an upload, a draft, a version); ContentError on any problem."""
    problems: list[ContentProblem] = []
    course = read_course(slug, files, prefix if prefix is not None else slug, problems)
    if problems or course is None:
        raise ContentError(problems or [ContentProblem.of(prefix or slug, 0, N_("course could not be read"))])
    return course


def read_course(slug: str, files: dict[str, bytes | str], prefix: str,
                problems: list[ContentProblem]) -> CourseSource | None:
    """A course from ``{name inside the course folder: bytes}``; problems are appended.

    An attachment (``attachments/<name>``) may be given by its SHA-256 (a str) instead
    of its bytes when its content is already stored.

    The one reader of a course, whatever holds its files: the server's courses/ folder,
    an uploaded ZIP or a version kept in the database.
    """
    def rel(name: str) -> str:
        return f"{prefix}/{name}" if prefix else name

    if not _SLUG_RE.match(slug):
        problems.append(ContentProblem.of(prefix or slug, 0, N_(
            "course folder name must be lowercase ASCII words joined by hyphens")))
        return None
    if "course.md" not in files:
        problems.append(ContentProblem.of(rel("course.md"), 0, N_("course.md is missing")))
        return None
    r = rel("course.md")
    data = files["course.md"]
    text = _decode(data, r, problems)
    doc = parse_document(text, r, problems) if text is not None else None
    if doc is None:
        return None
    before = len(problems)
    title = _require_title(doc, text, r, problems)
    order = _int(doc, "order", 0, text, r, problems)
    minutes = _int(doc, "estimated_minutes", 0, text, r, problems)
    summary = doc.meta.get("summary") or ""
    if not isinstance(summary, str):
        problems.append(ContentProblem.of(r, _meta_line(text, "summary"), N_("summary must be text")))
    quiz = doc.meta.get("quiz") or {}
    if not isinstance(quiz, dict):
        problems.append(ContentProblem.of(r, _meta_line(text, "quiz"), N_("quiz must be a mapping of settings")))
        quiz = {}

    digest = hashlib.sha256(data)
    lessons: list[LessonSource] = []
    attachments: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in sorted(files):
        if name == "course.md":
            continue
        if name.startswith("attachments/"):
            attachment = name[len("attachments/"):]
            if not _ATTACHMENT_RE.match(attachment):
                problems.append(ContentProblem.of(rel(name), 0, N_(
                    "attachment names may hold only letters, digits, '.', '-' and '_'")))
                continue
            value = files[name]
            # Content, or its SHA-256 when the content is already stored (a draft, a version).
            attachments[attachment] = value if isinstance(value, str) else _sha(value)
            digest.update(b"attachments/" + attachment.encode() + b"\0" + attachments[attachment].encode())
            continue
        if not name.endswith(".md") or "/" in name:
            continue  # not part of a course (the bank travels beside it, read by the quiz loader)
        lr = rel(name)
        match = _LESSON_FILE_RE.match(name)
        if not match:
            problems.append(ContentProblem.of(lr, 0, N_(
                "lesson file name must look like 01-lesson-name.md (lowercase ASCII)")))
            continue
        lesson_slug = match.group(2).strip("-")
        ldata = files[name]
        digest.update(name.encode() + b"\0" + ldata)
        ltext = _decode(ldata, lr, problems)
        ldoc = parse_document(ltext, lr, problems) if ltext is not None else None
        if ldoc is None:
            continue
        ltitle = _require_title(ldoc, ltext, lr, problems)
        default_order = int(match.group(1)) if match.group(1) else 0
        lorder = _int(ldoc, "order", default_order, ltext, lr, problems)
        lesson_slug = str(ldoc.meta.get("slug") or lesson_slug)
        if lesson_slug in seen:
            problems.append(ContentProblem.of(lr, 1, N_("lesson slug '%(slug)s' is also used by %(other)s"),
                                               slug=lesson_slug, other=seen[lesson_slug]))
            continue
        seen[lesson_slug] = lr
        if ltitle:
            lessons.append(LessonSource(lesson_slug, ltitle, lorder, ldoc.body, lr, _sha(ldata), name))
    if len(problems) > before or not title:
        return None
    lessons.sort(key=lambda lesson: (lesson.order, lesson.slug))
    return CourseSource(
        slug=slug, title=title, summary=summary.strip(), order=order,
        estimated_minutes=minutes, overview=doc.body, quiz=quiz, path=r,
        sha256=digest.hexdigest(), lessons=lessons, attachments=attachments,
    )
