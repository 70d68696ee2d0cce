"""Hostile uploads: each is refused with its reason in Vietnamese and changes nothing,
or (Markdown full of script tricks) is rendered inert."""
import io
import unicodedata
import zipfile

import pytest
from sqlalchemy import select

from learnhub.catalog.models import Lesson
from learnhub.materials.uploads import guess_encoding, inspect_upload, UploadRefused

from .materials_helpers import PDF, course_files, course_zip, make_zip, png_bytes, table_counts

MB = 1024 * 1024


@pytest.fixture
def trainer_with_course(client, login_as):
    """A published course with a pending draft: what a refused upload must leave as it was."""
    login_as("trainer")
    client.post("/materials/upload", data={"file": (io.BytesIO(course_zip()), "iso-co-ban.zip")},
                content_type="multipart/form-data")
    client.post("/materials/iso-co-ban/publish", data={"note": "v1"})
    text = course_files()["iso-co-ban/03-pdca.md"].decode() + "\nNháp đang sửa.\n"
    client.post("/materials/iso-co-ban/files/03-pdca.md", data={"text": text, "action": "save"})
    return client


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: letters precomposed, tone marks as combining characters."""
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and ch not in _TONES and out:
            base = max(i for i, c in enumerate(out) if not unicodedata.combining(c))
            out[base] = unicodedata.normalize("NFC", out[base] + ch)
        else:
            out.append(ch)
    return "".join(out).encode("cp1258")


def refused(client, name, data, course=None, status=422):
    before = table_counts()
    form = {"file": (io.BytesIO(data), name)}
    if course:
        form["course"] = course
    response = client.post("/materials/upload", data=form, content_type="multipart/form-data")
    assert response.status_code == status
    assert table_counts() == before, "a refused upload changed the database"
    return response.get_data(as_text=True)


def zip_with(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            z.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize("path", ["iso-co-ban/../../etc/cron.d/x.md", "../course.md", "iso-co-ban/..\\..\\x.md"])
def test_path_traversal_is_refused(trainer_with_course, path):
    files = course_files()
    files[path] = b"---\ntitle: x\n---\n"
    page = refused(trainer_with_course, "iso-co-ban.zip", make_zip(files))
    assert "đường dẫn đi ra ngoài thư mục" in page


@pytest.mark.parametrize("path", ["/etc/passwd", "C:/Windows/x.md", "\\\\server\\share\\x.md"])
def test_absolute_paths_are_refused(trainer_with_course, path):
    files = course_files()
    files[path] = b"x"
    page = refused(trainer_with_course, "iso-co-ban.zip", make_zip(files))
    assert "đường dẫn tuyệt đối" in page


def test_symlinks_are_refused(trainer_with_course):
    link = zipfile.ZipInfo("iso-co-ban/attachments/secret.pdf")
    link.create_system = 3
    link.external_attr = (0o120777 << 16)
    entries = list(course_files().items()) + [(link, b"/etc/passwd")]
    page = refused(trainer_with_course, "iso-co-ban.zip", zip_with(entries))
    assert "liên kết tượng trưng" in page


def test_more_than_500_entries_are_refused(trainer_with_course):
    files = course_files()
    for n in range(500):
        files[f"iso-co-ban/attachments/a{n}.pdf"] = PDF
    page = refused(trainer_with_course, "iso-co-ban.zip", make_zip(files))
    assert "chỉ nhận tối đa 500 mục" in page


def test_more_than_100_mb_inflated_is_refused_while_inflating(trainer_with_course):
    files = course_files()
    for n in range(6):  # 6 × 19 MB of zeros: each under the file cap, 114 MB together, a few KB zipped
        files[f"iso-co-ban/attachments/p{n}.pdf"] = PDF + b"\0" * (19 * MB)
    data = make_zip(files)
    assert len(data) < 1 * MB
    page = refused(trainer_with_course, "iso-co-ban.zip", data)
    assert "khi giải nén lớn hơn 100 MB" in page


def test_a_zip_whose_header_understates_sizes_is_refused(trainer_with_course):
    files = course_files()
    files["iso-co-ban/attachments/bom.pdf"] = PDF + b"\0" * (3 * MB)
    data = bytearray(make_zip(files))
    # Rewrite the declared size of that entry, in the local and the central header, to 100 bytes.
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("iso-co-ban/attachments/bom.pdf")
    real = info.file_size.to_bytes(4, "little")
    fake = (100).to_bytes(4, "little")
    assert data.count(real) == 2
    data = bytes(data).replace(real, fake)
    page = refused(trainer_with_course, "iso-co-ban.zip", data)
    assert "bị hỏng" in page


def test_a_file_over_20_mb_inside_a_zip_is_refused(trainer_with_course):
    files = course_files()
    files["iso-co-ban/attachments/lon.pdf"] = PDF + b"\0" * (20 * MB)
    page = refused(trainer_with_course, "iso-co-ban.zip", make_zip(files))
    assert "lớn hơn 20 MB, mức tối đa cho một tệp" in page


def test_a_single_file_over_20_mb_is_refused(trainer_with_course):
    page = refused(trainer_with_course, "lon.pdf", PDF + b"\0" * (20 * MB + 10), course="iso-co-ban")
    assert "lớn hơn 20 MB" in page
    # Far larger: stopped before it is read, with the limit named.
    page = refused(trainer_with_course, "rat-lon.pdf", PDF + b"\0" * (24 * MB), course="iso-co-ban", status=413)
    assert "20 MB" in page


@pytest.mark.parametrize("name, data, expected", [
    ("so-do.pdf", png_bytes(), "có đuôi .pdf nhưng nội dung là PNG"),
    ("phieu.png", PDF, "có đuôi .png nhưng nội dung là PDF"),
    ("trang.pdf", b"<html><script>alert(1)</script></html>", "không thuộc loại tệp được nhận"),
    ("hinh.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "không thuộc loại tệp được nhận"),
    ("bieu-mau.docx", b"MZ\x90\x00\x03\x00\x00\x00 program", "không thuộc loại tệp được nhận"),
    ("bai.md", png_bytes(), "có đuôi .md nhưng nội dung là PNG"),
    ("run.exe", b"MZ\x90\x00", "Biểu mẫu này không nhận run.exe"),
])
def test_file_type_is_judged_by_content(trainer_with_course, name, data, expected):
    page = refused(trainer_with_course, name, data, course="iso-co-ban")
    assert expected in page


def test_attachment_inside_a_zip_is_judged_by_content(trainer_with_course):
    files = course_files()
    files["iso-co-ban/attachments/phieu.pdf"] = b"<html><body onload=alert(1)></body></html>"
    page = refused(trainer_with_course, "iso-co-ban.zip", make_zip(files))
    assert "không thuộc loại tệp được nhận" in page


@pytest.mark.parametrize("encoding, expected", [
    ("cp1258", "Windows-1258"),
    ("utf-16", "UTF-16"),
])
def test_text_that_is_not_utf8_is_refused_naming_its_encoding(trainer_with_course, encoding, expected):
    text = '---\ntitle: "Bài 4. Đo lường"\n---\nNội dung bài học về đo lường và cải tiến.\n'
    data = cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    page = refused(trainer_with_course, "04-do-luong.md", data, course="iso-co-ban")
    assert "không phải văn bản UTF-8" in page and expected in page


def test_non_utf8_lesson_inside_a_zip_is_refused(trainer_with_course):
    files = course_files()
    files["iso-co-ban/03-pdca.md"] = cp1258(files["iso-co-ban/03-pdca.md"].decode())
    page = refused(trainer_with_course, "iso-co-ban.zip", make_zip(files))
    assert "iso-co-ban/03-pdca.md không phải văn bản UTF-8" in page and "Windows-1258" in page


def test_encoding_guesses():
    assert guess_encoding("Xã".encode("utf-16")) == "UTF-16"
    assert guess_encoding(cp1258("Quản lý chất lượng")).startswith("Windows-1258")
    assert guess_encoding(bytes([0xb8, 0xa9, 0x61])) == "TCVN3 (ABC), VNI or Windows-1252"


def test_broken_front_matter_is_reported_by_line_and_changes_nothing(trainer_with_course):
    files = course_files()
    files["iso-co-ban/02-bay-nguyen-tac.md"] = b'---\ntitle: "Bai 2\norder: [2\n---\nx\n'
    page = refused(trainer_with_course, "iso-co-ban.zip", make_zip(files))
    assert "iso-co-ban/02-bay-nguyen-tac.md" in page and "dòng 2" in page and "phần khai báo bị lỗi" in page


def test_gift_with_errors_is_refused_with_its_lines(trainer_with_course):
    page = refused(trainer_with_course, "iso-co-ban.gift", b"::Q1:: Thieu dau ngoac {=A ~B\n", course="iso-co-ban")
    assert "iso-co-ban/iso-co-ban.gift" in page and "dòng 1" in page and "dấu ngoặc không cân" in page


SCRIPT_TRICKS = """---
title: "Bài 4. Thủ thuật"
order: 4
---
Đoạn an toàn.

<script>alert('s')</script>
<img src="x" onerror="alert('i')">
<iframe src="https://evil.example/"></iframe>
<svg onload="alert('v')"><circle/></svg>
<style>body{display:none}</style>
<a href="javascript:alert('j')">j</a> <a href="&#106;avascript:alert('e')">e</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>
<a href="vbscript:msgbox(1)">v</a> <a href="//evil.example/x">p</a>
<form action="https://evil.example/"><input name="password"></form>
<div id="attempt-form" style="position:fixed" onclick="alert('c')">c</div>
[md](javascript:alert('m')) ![ảnh ngoài](https://evil.example/track.png)
[ngoài trang](/admin/users) [tệp lạ](attachments/khong-co.pdf)
<object data="x.swf"></object><embed src="x.swf"><math><mi>x</mi></math>
"""


def test_markdown_full_of_script_tricks_is_rendered_inert(trainer_with_course, client, db):
    response = client.post("/materials/upload", data={
        "file": (io.BytesIO(SCRIPT_TRICKS.encode()), "04-thu-thuat.md"), "course": "iso-co-ban"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    client.post("/materials/iso-co-ban/publish", data={"note": "thử"})
    html = db.session.scalar(select(Lesson.body_html).where(Lesson.slug == "thu-thuat"))
    assert "Đoạn an toàn." in html
    for bad in ("<script", "onerror", "onload", "onclick", "javascript", "<iframe", "<svg", "<style", "data:",
                "vbscript", "evil.example", "<form", "<input", 'id="attempt-form"', "style=", "/admin/users",
                "khong-co.pdf", "<object", "<embed", "<math"):
        assert bad not in html, bad
    # The preview uses the very same pipeline.
    preview = client.post("/materials/iso-co-ban/preview", data={"text": SCRIPT_TRICKS}).get_json()["html"]
    assert "<script" not in preview and "javascript" not in preview and "evil.example" not in preview


def test_inspect_upload_refuses_empty_and_unknown():
    with pytest.raises(UploadRefused):
        inspect_upload("x.md", b"")
    assert inspect_upload("iso-co-ban.zip", course_zip()).slug == "iso-co-ban"
