"""What an uploaded file is, judged by its content, and whether it may come in.

No Flask request, no database: bytes in, an ``Upload`` (or ``UploadRefused`` with
the reason in the user's language) out. A ZIP is inspected entry by entry while it
is inflated, counting the bytes that really come out, never trusting its header.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

MAX_FILE_BYTES = 20 * 1024 * 1024  # any single file, the upload itself or one inside a ZIP
MAX_ZIP_ENTRIES = 500
MAX_ZIP_TOTAL = 100 * 1024 * 1024  # inflated, all entries together
_CHUNK = 64 * 1024

# Attachments: kind → (content type, accepted name extensions). Never SVG (it can carry script).
ATTACHMENT_TYPES = {
    "pdf": ("application/pdf", ("pdf",)),
    "png": ("image/png", ("png",)),
    "jpeg": ("image/jpeg", ("jpg", "jpeg")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}
_KIND_LABELS = {
    "pdf": "PDF", "png": "PNG", "jpeg": "JPEG", "docx": "Word (DOCX)", "pptx": "PowerPoint (PPTX)",
    "xlsx": "Excel (XLSX)", "zip": "ZIP",
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_IGNORED = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)")


class UploadRefused(Exception):
    """Why an upload cannot come in; ``str()`` is in the user's language."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))

    def __str__(self) -> str:
        return str(self.message)


@dataclass
class Attachment:
    name: str
    data: bytes
    content_type: str


@dataclass
class Upload:
    """An accepted upload. ``kind``: course (a ZIP), lesson, bank or attachment."""

    kind: str
    name: str
    texts: dict[str, str] = field(default_factory=dict)  # lesson/course Markdown and GIFT by name
    attachments: dict[str, Attachment] = field(default_factory=dict)
    slug: str = ""  # a course ZIP's course


def _size_label(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB"


def _too_big(name: str):
    return UploadRefused(_l("%(name)s is larger than %(limit)s, the most one file may hold.",
                            name=name, limit=_size_label(MAX_FILE_BYTES)))


def sniff(data: bytes) -> str | None:
    """The kind of a binary file by its first bytes and, for ZIPs, by what they hold."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _ooxml_kind(data) or "zip"
    return None


def _ooxml_kind(data: bytes) -> str | None:
    """DOCX, PPTX or XLSX by the main part named in [Content_Types].xml; "" for other OOXML."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                info = archive.getinfo("[Content_Types].xml")
            except KeyError:
                return None
            if info.file_size > 1024 * 1024:
                return ""
            with archive.open(info) as handle:
                types = handle.read(1024 * 1024 + 1).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError, ValueError):
        return None
    for marker, kind in _OOXML_MAIN.items():
        if marker in types:
            return kind
    return ""  # macro-enabled or other Office files: not accepted


def guess_encoding(data: bytes) -> str:
    """A plain-words guess at what a file that is not UTF-8 is written in."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    sample = data[:4096]
    if sample and sample.count(b"\x00") * 4 > len(sample):
        return "UTF-16"
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        text = None
    if text is not None and re.search("[ăâđêôơưĂÂĐÊÔƠƯ]|[a-zA-Z][\u0300\u0301\u0303\u0309\u0323]", text):
        return "Windows-1258 (Vietnamese)"
    return "TCVN3 (ABC), VNI or Windows-1252"


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a leading BOM is allowed), or UploadRefused naming the likely encoding."""
    kind = sniff(data)
    if kind is not None:
        raise UploadRefused(_l("%(name)s is a %(kind)s file, not text.", name=name, kind=_KIND_LABELS[kind]))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UploadRefused(_l(
            "%(name)s is not UTF-8 text (line %(line)s): it looks like %(encoding)s. "
            "Save it as UTF-8 and upload it again.",
            name=name, line=line, encoding=guess_encoding(data))) from None
    if "\x00" in text:
        raise UploadRefused(_l("%(name)s holds binary data, not text.", name=name))
    return text


def check_attachment(name: str, data: bytes) -> Attachment:
    """An attachment whose content is one of the accepted kinds and agrees with its name."""
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(name)
    base = name.rsplit("/", 1)[-1]
    if not _NAME_RE.match(base):
        raise UploadRefused(_l(
            "%(name)s: an attachment's name may hold only Latin letters without accents, digits, "
            "'.', '-' and '_'. Rename it and upload it again.", name=name))
    kind = sniff(data)
    if kind not in ATTACHMENT_TYPES:
        raise UploadRefused(_l(
            "%(name)s is not a file type accepted here (PDF, DOCX, PPTX, XLSX, PNG or JPEG), "
            "judged by its content.", name=name))
    content_type, extensions = ATTACHMENT_TYPES[kind]
    extension = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    if extension not in extensions:
        raise UploadRefused(_l(
            "%(name)s is named as .%(extension)s but its content is %(kind)s. "
            "Give it the right name and upload it again.",
            name=name, extension=extension or "?", kind=_KIND_LABELS[kind]))
    return Attachment(base, data, content_type)


def inspect_upload(filename: str, data: bytes) -> Upload:
    """Judge an uploaded file by its content; raise UploadRefused with the reason."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not data:
        raise UploadRefused(_l("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(name or "?")
    kind = sniff(data)
    if kind == "zip":
        return read_course_zip(name, data)
    if kind is not None:
        attachment = check_attachment(name, data)
        return Upload("attachment", attachment.name, attachments={attachment.name: attachment})
    if kind is None and name.lower().endswith((".pdf", ".png", ".jpg", ".jpeg", ".docx", ".pptx", ".xlsx", ".zip")):
        check_attachment(name, data)  # raises: the content is not what the name says
    lower = name.lower()
    if lower.endswith(".md"):
        text = decode_text(data, name)
        if not text.lstrip("\ufeff").startswith("---"):
            raise UploadRefused(_l("%(name)s does not start with front matter (a line ---), "
                                   "so it is not a lesson.", name=name))
        return Upload("lesson", name, texts={name: text})
    if lower.endswith(".gift"):
        return Upload("bank", name, texts={name: decode_text(data, name)})
    raise UploadRefused(_l(
        "%(name)s is not something this form accepts: a course as .zip, a lesson .md, a question bank "
        ".gift, or an attachment (PDF, DOCX, PPTX, XLSX, PNG, JPEG).", name=name or "?"))


def read_course_zip(zip_name: str, data: bytes) -> Upload:
    """A course in the courses/<slug>/ layout, inflated with every entry checked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise UploadRefused(_l("%(name)s is not a readable ZIP file.", name=zip_name)) from None
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UploadRefused(_l("%(name)s holds %(count)s entries; at most %(limit)s are accepted.",
                               name=zip_name, count=len(infos), limit=MAX_ZIP_ENTRIES))
    entries: dict[str, bytes] = {}
    total = 0
    for info in infos:
        raw = info.filename
        path = raw.replace("\\", "/")
        if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
            raise UploadRefused(_l("%(name)s holds an absolute path (%(path)s): refused.", name=zip_name, path=raw))
        if ".." in path.split("/"):
            raise UploadRefused(_l("%(name)s holds a path that leaves its folder (%(path)s): refused.",
                                   name=zip_name, path=raw))
        mode = (info.external_attr >> 16) & 0o170000
        if mode == 0o120000:
            raise UploadRefused(_l("%(name)s holds a symbolic link (%(path)s): refused.", name=zip_name, path=raw))
        if info.flag_bits & 0x1:
            raise UploadRefused(_l("%(name)s holds an encrypted entry (%(path)s): refused.", name=zip_name, path=raw))
        if info.is_dir() or mode == 0o040000:
            continue
        content = bytearray()
        try:
            with archive.open(info) as handle:
                while chunk := handle.read(_CHUNK):
                    content += chunk
                    total += len(chunk)
                    if len(content) > MAX_FILE_BYTES:
                        raise _too_big(raw)
                    if total > MAX_ZIP_TOTAL:
                        raise UploadRefused(_l(
                            "%(name)s inflates to more than %(limit)s: refused.",
                            name=zip_name, limit=_size_label(MAX_ZIP_TOTAL)))
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError):
            raise UploadRefused(_l("%(name)s is damaged: %(path)s cannot be read.", name=zip_name, path=raw)) from None
        if _IGNORED.search(path):
            continue
        if path in entries:
            raise UploadRefused(_l("%(name)s holds %(path)s twice.", name=zip_name, path=raw))
        entries[path] = bytes(content)
    return _course_layout(zip_name, entries)


def _course_layout(zip_name: str, entries: dict[str, bytes]) -> Upload:
    if "course.md" in entries:
        stem = zip_name[:-4] if zip_name.lower().endswith(".zip") else zip_name
        slug, prefix = stem, ""
        if not _SLUG_RE.match(slug):
            raise UploadRefused(_l(
                "The course's files are at the top of %(name)s, so its code comes from the ZIP's name, "
                "which must be lowercase Latin words joined by hyphens (for example qms-basics.zip).",
                name=zip_name))
    else:
        tops = {path.split("/", 1)[0] for path in entries}
        if len(tops) != 1 or f"{next(iter(tops))}/course.md" not in entries:
            raise UploadRefused(_l(
                "%(name)s must hold one folder named after the course with course.md in it "
                "(as export-course writes it), or course.md at its top.", name=zip_name))
        slug = next(iter(tops))
        prefix = slug + "/"
        if not _SLUG_RE.match(slug):
            raise UploadRefused(_l(
                "The folder %(folder)s in %(name)s must be named after the course: lowercase Latin "
                "words joined by hyphens.", folder=slug, name=zip_name))
    upload = Upload("course", zip_name, slug=slug)
    for path, content in sorted(entries.items()):
        inner = path[len(prefix):]
        if inner.startswith("attachments/") and inner.count("/") == 1:
            attachment = check_attachment(path, content)
            upload.attachments[attachment.name] = attachment
        elif "/" not in inner and inner.lower().endswith((".md", ".gift")):
            upload.texts[inner] = decode_text(content, path)
        else:
            raise UploadRefused(_l(
                "%(path)s in %(name)s is not part of a course (course.md, lesson .md files, "
                "one .gift bank and attachments/).", path=path, name=zip_name))
    if sum(1 for name in upload.texts if name.lower().endswith(".gift")) > 1:
        raise UploadRefused(_l("%(name)s holds more than one .gift question bank.", name=zip_name))
    return upload
