"""Course ZIPs and files for the materials tests, built from the test fixtures."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from sqlalchemy import func, select

from learnhub.audit.models import AuditEntry
from learnhub.catalog.models import Course, Lesson, LessonProgress
from learnhub.extensions import db
from learnhub.materials.models import Blob, CourseAttachment, CourseVersion, ManagedCourse
from learnhub.quizzes.models import Question

FIXTURES = Path(__file__).parent / "fixtures"
COURSE = FIXTURES / "courses" / "iso-co-ban"
BANK = FIXTURES / "quizzes" / "iso-co-ban.gift"


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def course_files(slug_folder: str | None = "iso-co-ban", extra: dict[str, bytes] | None = None,
                 bank: bool = True) -> dict[str, bytes]:
    prefix = f"{slug_folder}/" if slug_folder else ""
    files = {f"{prefix}{p.name}": p.read_bytes() for p in sorted(COURSE.glob("*.md"))}
    if bank:
        files[f"{prefix}iso-co-ban.gift"] = BANK.read_bytes()
    for name, data in (extra or {}).items():
        files[f"{prefix}{name}"] = data
    return files


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def course_zip(**kwargs) -> bytes:
    return make_zip(course_files(**kwargs))


def table_counts() -> dict[str, int]:
    """Rows in every table an upload, a publish or a rollback could touch."""
    db.session.expire_all()
    counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
              for model in (Blob, ManagedCourse, CourseVersion, CourseAttachment, Course, Lesson, Question,
                            LessonProgress, AuditEntry)}
    drafts = db.session.scalars(select(ManagedCourse.draft)).all()
    counts["drafts"] = repr(drafts)
    return counts
