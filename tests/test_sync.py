"""`learnhub sync`: idempotent, updates changed lessons, retires removed ones, all or nothing."""
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub.catalog.loader import ContentError
from learnhub.catalog.models import ContentPage, Course, Lesson, LessonProgress
from learnhub.catalog.services import mark_lesson_done
from learnhub.materials.sync import sync_content

from . import factories
from .querycount import Statements

FIXTURE = Path(__file__).parent / "fixtures" / "courses"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "courses"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(FIXTURE.parent / "quizzes", tmp_path / "quizzes")
    return root


def test_first_sync_creates_courses_lessons_and_pages(db, tree):
    report = sync_content(str(tree))
    db.session.commit()
    course = db.session.scalar(select(Course).where(Course.slug == "iso-co-ban"))
    assert course.title == "ISO cơ bản (khóa thử)"
    assert [l.slug for l in course.lessons] == ["he-thong-la-gi", "bay-nguyen-tac", "pdca"]
    first = course.lessons[0]
    assert '<h2 id="khai-niem">Khái niệm</h2>' in first.body_html
    assert 'href="#loi-ich"' in first.toc_html
    assert db.session.scalar(select(ContentPage.title).where(ContentPage.slug == "glossary")) == "Thuật ngữ Việt – Anh"
    assert "iso-co-ban/pdca" in report.created


def test_rerun_with_nothing_changed_writes_nothing(db, tree):
    sync_content(str(tree))
    db.session.commit()
    with Statements(db.engine) as counter:
        report = sync_content(str(tree))
        db.session.commit()
    assert counter.writes == []
    assert not report.changed


def test_changed_lesson_is_updated_and_versioned(db, tree):
    sync_content(str(tree))
    db.session.commit()
    path = tree / "iso-co-ban" / "03-pdca.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Lập kế hoạch", "Hoạch định"), encoding="utf-8")
    report = sync_content(str(tree))
    db.session.commit()
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "pdca"))
    assert "Hoạch định" in lesson.body_html and lesson.version == 2
    assert report.updated == ["iso-co-ban", "iso-co-ban/pdca"]


def test_removed_lesson_is_retired_and_progress_kept(db, tree, units):
    sync_content(str(tree))
    db.session.commit()
    official = factories.make_user("official")
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "pdca"))
    mark_lesson_done(official.id, lesson)
    db.session.commit()
    (tree / "iso-co-ban" / "03-pdca.md").unlink()
    report = sync_content(str(tree))
    db.session.commit()
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "pdca"))
    assert lesson.retired_at is not None
    assert "iso-co-ban/pdca" in report.retired
    assert db.session.scalar(select(LessonProgress).where(LessonProgress.lesson_id == lesson.id)) is not None
    # Putting it back restores the same lesson, with its history.
    shutil.copy(FIXTURE / "iso-co-ban" / "03-pdca.md", tree / "iso-co-ban" / "03-pdca.md")
    sync_content(str(tree))
    db.session.commit()
    restored = db.session.scalar(select(Lesson).where(Lesson.slug == "pdca"))
    assert restored.id == lesson.id and restored.retired_at is None


def test_malformed_file_changes_nothing(db, tree):
    sync_content(str(tree))
    db.session.commit()
    (tree / "iso-co-ban" / "02-bay-nguyen-tac.md").write_text("---\ntitle: Mới\n---\nđã sửa\n", encoding="utf-8")
    (tree / "iso-co-ban" / "03-pdca.md").write_bytes(b"---\ntitle: x\n---\n\xff\n")
    with Statements(db.engine) as counter, pytest.raises(ContentError) as exc:
        sync_content(str(tree))
    assert counter.writes == []
    assert "courses/iso-co-ban/03-pdca.md:4: file is not valid UTF-8" in str(exc.value)
    db.session.rollback()
    assert db.session.scalar(select(Lesson.title).where(Lesson.slug == "bay-nguyen-tac")) == "Bài 2. Bảy nguyên tắc quản lý chất lượng"


def test_sync_command_reports_and_is_idempotent(app, db, tree):
    app.config["COURSES_DIR"] = str(tree)
    try:
        runner = app.test_cli_runner()
        first = runner.invoke(args=["learnhub", "sync"])
        assert first.exit_code == 0, first.output
        assert "Sync done: 14 created" in first.output  # 3 lessons, course, glossary, quiz, 8 questions
        second = runner.invoke(args=["learnhub", "sync"])
        assert "0 created, 0 updated, 0 retired, 0 restored" in second.output
        (tree / "iso-co-ban" / "01-he-thong-la-gi.md").write_text("---\norder: 1\n---\n", encoding="utf-8")
        bad = runner.invoke(args=["learnhub", "sync"])
        assert bad.exit_code == 1
        assert "courses/iso-co-ban/01-he-thong-la-gi.md:1: missing title" in bad.output
        assert "nothing was changed" in bad.output
    finally:
        app.config["COURSES_DIR"] = str(FIXTURE)
