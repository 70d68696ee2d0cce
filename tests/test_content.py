"""Markdown rendering, sanitising and the course loader: pure, no app."""
from pathlib import Path

import pytest

from learnhub.catalog.loader import ContentError, load_tree
from learnhub.content import render_markdown, sanitize, slugify

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="java&#x09;script:alert(1)">x</a>',
    "<svg onload=alert(1)></svg>",
    "<iframe src=//evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<body onload=alert(1)>",
    '<p onclick="alert(1)">x</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=javascript:alert(1)><input type=submit></form>",
    '<object data="javascript:alert(1)"></object>',
    '![x](javascript:alert(1))',
    '<a href="  javascript:alert(1)">x</a>',
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_are_neutralised(attack):
    html = render_markdown(f"Đoạn văn.\n\n{attack}\n").html.lower()
    assert "<script" not in html
    assert "javascript:" not in html and "vbscript:" not in html and "data:" not in html
    assert " on" not in html.replace("noopener", "")  # no event-handler attribute
    for tag in ("<iframe", "<svg", "<object", "<form", "<style", "<body", "<math"):
        assert tag not in html
    assert "style=" not in html


def test_markdown_features_survive_sanitising():
    rendered = render_markdown(
        "## Phần một\n\ntext\n\n### Chi tiết\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '!!! note "Ghi nhớ"\n    nội dung\n\n```\ncode <b>x</b>\n```\n\n[link](https://example.org)\n')
    html = rendered.html
    assert '<h2 id="phan-mot">Phần một</h2>' in html
    assert "<table>" in html and "<th>a</th>" in html
    assert '<div class="admonition note">' in html and "admonition-title" in html
    assert "<pre><code>code &lt;b&gt;x&lt;/b&gt;" in html
    assert 'href="https://example.org"' in html
    assert 'href="#phan-mot"' in rendered.toc_html and 'href="#chi-tiet"' in rendered.toc_html


def test_toc_is_empty_for_a_lesson_without_sections():
    assert render_markdown("Chỉ một đoạn.").toc_html == ""


def test_slugify_strips_vietnamese_marks():
    assert slugify("Đánh giá nội bộ – Điều 9.2") == "danh-gia-noi-bo-dieu-92"


def test_sanitize_keeps_plain_text_escaped():
    assert sanitize("a < b & c") == "a &lt; b &amp; c"


def _write(root: Path, rel: str, text: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def _course(root: Path, slug="khoa", lessons=None):
    _write(root, f"{slug}/course.md", "---\ntitle: Khoá\norder: 1\n---\nTổng quan\n")
    for name, body in (lessons or {"01-mot.md": "---\ntitle: Một\norder: 1\n---\nBài một\n"}).items():
        _write(root, f"{slug}/{name}", body)


def test_loader_reads_courses_lessons_and_pages(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"02-hai.md": "---\ntitle: Hai\norder: 2\n---\nHai\n",
                           "01-mot.md": "\ufeff---\r\ntitle: Một\r\norder: 1\r\n---\r\nMột\r\n"})
    _write(root, "glossary.md", "---\ntitle: Thuật ngữ\n---\n| a | b |\n")
    courses, pages = load_tree(root)
    assert [c.slug for c in courses] == ["khoa"]
    assert [(l.slug, l.title) for l in courses[0].lessons] == [("mot", "Một"), ("hai", "Hai")]
    assert pages[0].slug == "glossary" and pages[0].title == "Thuật ngữ"


@pytest.mark.parametrize("body, line, message", [
    ("---\ntitle: [unclosed\norder: 1\n---\nx\n", 2, "bad front matter"),
    ("---\norder: 1\n---\nx\n", 1, "missing title"),
    ("---\ntitle: \"\"\norder: 1\n---\nx\n", 2, "missing title"),
    ("no front matter\n", 1, "missing front matter"),
    ("---\ntitle: x\norder: one\n---\nx\n", 3, "order must be"),
    ("---\ntitle: x\n", 1, "not closed"),
])
def test_loader_reports_file_and_line(tmp_path, body, line, message):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": body})
    with pytest.raises(ContentError) as exc:
        load_tree(root)
    problem = exc.value.problems[0]
    assert problem.file == "courses/khoa/01-mot.md"
    assert problem.line == line
    assert message in problem.message
    assert str(problem).startswith(f"courses/khoa/01-mot.md:{line}: ")


def test_loader_reports_non_utf8_with_line(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": "---\ntitle: x\n---\ndòng ba\n".encode("utf-8") + "sai m\u00e0\n".encode("cp1258")})
    with pytest.raises(ContentError) as exc:
        load_tree(root)
    assert exc.value.problems[0].line == 5
    assert "UTF-8" in exc.value.problems[0].message


def test_loader_collects_every_problem(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": "---\norder: 1\n---\n", "02-hai.md": "x"})
    _course(root, slug="khac", lessons={"01-ba.md": "---\ntitle: [\n---\n"})
    with pytest.raises(ContentError) as exc:
        load_tree(root)
    files = {p.file for p in exc.value.problems}
    assert files == {"courses/khoa/01-mot.md", "courses/khoa/02-hai.md", "courses/khac/01-ba.md"}


def test_duplicate_lesson_slug_is_an_error(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": "---\ntitle: a\n---\n", "02-mot.md": "---\ntitle: b\n---\n"})
    with pytest.raises(ContentError, match="also used by"):
        load_tree(root)
