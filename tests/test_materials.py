"""Materials as document control: upload into a draft, edit, publish, roll back, export, CLI."""
import io
import json
import zipfile

from sqlalchemy import select

from learnhub.audit.models import AuditEntry
from learnhub.catalog.models import Course, Lesson, LessonProgress
from learnhub.catalog.services import mark_lesson_done
from learnhub.materials.models import Blob, CourseVersion, ManagedCourse
from learnhub.materials.sync import sync_content

from . import factories
from .materials_helpers import BANK, PDF, course_files, course_zip, docx_bytes, make_zip, png_bytes, table_counts

LESSON = "/courses/iso-co-ban/he-thong-la-gi"


def upload(client, name, data, course=None):
    form = {"file": (io.BytesIO(data), name)}
    if course:
        form["course"] = course
    return client.post("/materials/upload", data=form, content_type="multipart/form-data")


def publish(client, note="Ban đầu", slug="iso-co-ban"):
    return client.post(f"/materials/{slug}/publish", data={"note": note})


def as_official(client):
    client.post("/logout")
    official = factories.make_user("official")
    client.post("/login", data={"username": official.username, "password": factories.PASSWORD})
    return official


def edit_lesson(client, name, text, slug="iso-co-ban"):
    return client.post(f"/materials/{slug}/files/{name}", data={"text": text, "action": "save"})


def test_only_trainers_and_admins_reach_materials(client, login_as):
    login_as("official")
    assert client.get("/materials").status_code == 403
    assert upload(client, "iso-co-ban.zip", course_zip()).status_code == 403


def test_header_offers_materials_to_trainers(client, login_as):
    login_as("trainer")
    assert "Học liệu" in client.get("/materials").get_data(as_text=True)


def test_uploaded_course_is_a_draft_until_published(app, client, db, login_as):
    trainer = login_as("trainer", username="gv-hoa")
    response = upload(client, "iso-co-ban.zip", course_zip())
    assert response.status_code == 302
    assert db.session.scalar(select(Course).where(Course.slug == "iso-co-ban")) is None  # officials see nothing
    page = client.get("/materials").get_data(as_text=True)
    assert "Bản nháp" in page and "Chưa công bố" in page

    assert publish(client, note="").status_code == 302  # no note: refused
    assert db.session.scalar(select(CourseVersion)) is None
    response = publish(client, note="Ban hành lần đầu")
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.slug == "iso-co-ban"))
    assert [l.slug for l in course.lessons] == ["he-thong-la-gi", "bay-nguyen-tac", "pdca"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "materials.publish"))
    assert entry.actor_id == trainer.id and entry.data["version"] == 1

    result = app.test_cli_runner().invoke(args=["learnhub", "versions", "iso-co-ban", "--json"])
    info = json.loads(result.output)
    assert set(info) == {"slug", "managed", "published", "draft", "versions"}
    assert (info["slug"], info["managed"], info["published"], info["draft"]) == ("iso-co-ban", "app", 1, False)
    assert [(v["number"], v["author"], v["note"]) for v in info["versions"]] == [(1, "gv-hoa", "Ban hành lần đầu")]
    assert set(info["versions"][0]) == {"number", "published_at", "author", "note"}

    as_official(client)
    assert "Mở đầu bài một." in client.get(LESSON).get_data(as_text=True)
    assert client.get("/materials").status_code == 403


def test_edit_publish_rollback_and_progress_keeps_its_version(client, db, login_as):
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip())
    publish(client, "v1")
    official = factories.make_user("official")
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "he-thong-la-gi"))
    mark_lesson_done(official.id, lesson)
    db.session.commit()
    first_version = lesson.version

    name = "01-he-thong-la-gi.md"
    text = (factories and course_files()[f"iso-co-ban/{name}"].decode()).replace("Mở đầu bài một.", "Mở đầu đã sửa.")
    assert edit_lesson(client, name, text).status_code == 302
    db.session.expire_all()
    assert "Mở đầu bài một." in db.session.get(Lesson, lesson.id).body_html  # the draft is not published
    publish(client, "Sửa mở đầu")
    db.session.expire_all()
    assert "Mở đầu đã sửa." in db.session.get(Lesson, lesson.id).body_html
    assert db.session.get(Lesson, lesson.id).version == first_version + 1
    mark = db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == official.id))
    assert mark.lesson_version == first_version  # what the official read stays recorded

    diff = client.get("/materials/iso-co-ban/diff?from=1&to=2").get_data(as_text=True)
    assert "-Mở đầu bài một." in diff and "+Mở đầu đã sửa." in diff

    response = client.post("/materials/iso-co-ban/rollback", data={"number": "1", "note": "Quay lại"})
    assert response.status_code == 302
    db.session.expire_all()
    assert "Mở đầu bài một." in db.session.get(Lesson, lesson.id).body_html
    numbers = db.session.execute(select(CourseVersion.number, CourseVersion.restored_from)
                                 .order_by(CourseVersion.number)).all()
    assert numbers == [(1, None), (2, None), (3, 1)]  # history kept, rollback is a new number
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "materials.rollback")).data["version"] == 3


def test_lessons_are_added_reordered_and_retired_in_the_draft(client, db, login_as):
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip())
    publish(client)
    response = client.post("/materials/iso-co-ban/lessons", data={"title": "Bài 4. Cải tiến"})
    assert response.status_code == 302 and "04-bai-4-cai-tien.md" in response.location
    client.post("/materials/iso-co-ban/files/04-bai-4-cai-tien.md/move", data={"direction": "up"})
    client.post("/materials/iso-co-ban/files/01-he-thong-la-gi.md/retire")
    publish(client, "Thêm bài 4, bỏ bài 1")
    course = db.session.scalar(select(Course).where(Course.slug == "iso-co-ban"))
    active = db.session.scalars(select(Lesson.slug).where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))
                                .order_by(Lesson.position)).all()
    assert active == ["bay-nguyen-tac", "bai-4-cai-tien", "pdca"]
    retired = db.session.scalar(select(Lesson).where(Lesson.slug == "he-thong-la-gi"))
    assert retired.retired_at is not None


def test_gift_question_errors_are_shown_by_line_and_nothing_is_saved(client, db, login_as):
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip())
    before = table_counts()
    response = client.post("/materials/iso-co-ban/questions/2", data={
        "text": "::NT-2:: Nguyên tắc nào?\n{\n=Hướng vào khách hàng\n~Cải tiến"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "dòng 1: dấu ngoặc không cân" in page and "Nguyên tắc nào?" in page
    assert table_counts() == before
    response = client.post("/materials/iso-co-ban/questions/2", data={
        "text": "::NT-2:: Nguyên tắc nào đặt người dân vào trung tâm? {=Hướng vào khách hàng ~Cải tiến}"})
    assert response.status_code == 302
    draft = db.session.scalar(select(ManagedCourse.draft))
    assert "đặt người dân vào trung tâm? {=Hướng" in draft["bank"]["text"]


def test_preview_without_script_renders_sanitised_markdown(client, login_as):
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip())
    response = client.post("/materials/iso-co-ban/files/01-he-thong-la-gi.md", data={
        "action": "preview",
        "text": '---\ntitle: "T"\n---\n## Mục\n\n<script>alert(1)</script><img src=x onerror=alert(1)>'
                '[x](javascript:alert(1))'})
    page = response.get_data(as_text=True)
    assert '<h2 id="muc">Mục</h2>' in page
    assert "alert(1)" not in page.split('id="materials-preview"')[1].split("</section>")[0]
    assert "<script>alert" not in page.split("</textarea>")[1]


def test_sync_leaves_app_managed_courses_alone(app, client, db, login_as):
    runner = app.test_cli_runner()
    runner.invoke(args=["learnhub", "sync"])
    login_as("trainer")
    name = "01-he-thong-la-gi.md"
    text = course_files()[f"iso-co-ban/{name}"].decode().replace("Mở đầu bài một.", "Bản trong ứng dụng.")
    edit_lesson(client, name, text)
    publish(client, "Sửa trong ứng dụng")
    result = runner.invoke(args=["learnhub", "sync"])
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if "iso-co-ban" in line]
    assert lines == ["iso-co-ban: managed in the app, left alone (export-course writes it back as files)."]
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "he-thong-la-gi"))
    assert "Bản trong ứng dụng." in lesson.body_html
    info = json.loads(runner.invoke(args=["learnhub", "versions", "iso-co-ban", "--json"]).output)
    assert info["managed"] == "app" and [v["author"] for v in info["versions"]] == [None, lesson and info["versions"][1]["author"]]


def test_file_managed_course_syncs_as_before(app, db):
    result = app.test_cli_runner().invoke(args=["learnhub", "sync"])
    assert "left alone" not in result.output
    info = json.loads(app.test_cli_runner().invoke(args=["learnhub", "versions", "iso-co-ban", "--json"]).output)
    assert info["managed"] == "files" and info["published"] == 1 and info["draft"] is False


def test_export_then_import_is_a_round_trip(app, db, login_as, tmp_path):
    trainer = factories.make_user("trainer", username="gv-lan")
    extra = {"attachments/mau-phieu.pdf": PDF, "attachments/so-do.png": png_bytes(), "attachments/bieu-mau.docx": docx_bytes()}
    runner = app.test_cli_runner()
    source = tmp_path / "iso-co-ban.zip"
    source.write_bytes(course_zip(extra=extra))
    assert runner.invoke(args=["learnhub", "import-course", str(source), "--as", "gv-lan"]).exit_code == 0
    assert runner.invoke(args=["learnhub", "publish", "iso-co-ban", "--note", "Nhập", "--as", "gv-lan"]).exit_code == 0
    first = tmp_path / "first.zip"
    assert runner.invoke(args=["learnhub", "export-course", "iso-co-ban", str(first)]).exit_code == 0
    with zipfile.ZipFile(first) as z:
        exported = {n: z.read(n) for n in z.namelist()}
    assert exported == course_files(extra=extra)  # the courses/ layout, bank and attachments included

    # Import the export into an empty database: the same course comes back.
    for table in ("course_attachment", "course_version", "managed_course"):
        db.session.execute(db.text(f"DELETE FROM {table}"))
    db.session.commit()
    assert runner.invoke(args=["learnhub", "import-course", str(first), "--as", trainer.username]).exit_code == 0
    assert runner.invoke(args=["learnhub", "publish", "iso-co-ban", "--note", "Lại", "--as", "gv-lan"]).exit_code == 0
    second = tmp_path / "second.zip"
    runner.invoke(args=["learnhub", "export-course", "iso-co-ban", str(second)])
    assert second.read_bytes() == first.read_bytes()


def test_rollback_from_the_command_line(app, db, client, login_as):
    factories.make_user("trainer", username="gv-minh")
    runner = app.test_cli_runner()
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip())
    publish(client, "v1")
    edit_lesson(client, "03-pdca.md", course_files()["iso-co-ban/03-pdca.md"].decode() + "\nThêm một đoạn.\n")
    assert runner.invoke(args=["learnhub", "publish", "iso-co-ban", "--note", "v2", "--as", "gv-minh"]).exit_code == 0
    result = runner.invoke(args=["learnhub", "rollback", "iso-co-ban", "1", "--note", "Trở lại", "--as", "gv-minh"])
    assert result.exit_code == 0 and "version 3" in result.output
    assert "Thêm một đoạn." not in db.session.scalar(select(Lesson.body_html).where(Lesson.slug == "pdca"))
    bad = runner.invoke(args=["learnhub", "rollback", "iso-co-ban", "9", "--note", "x", "--as", "gv-minh"])
    assert bad.exit_code == 1
    official = factories.make_user("official")
    refused = runner.invoke(args=["learnhub", "publish", "iso-co-ban", "--note", "x", "--as", official.username])
    assert refused.exit_code == 1


def test_zip_with_files_at_its_root_takes_the_slug_from_its_name(client, db, login_as):
    login_as("trainer")
    assert upload(client, "iso-co-ban.zip", course_zip(slug_folder=None)).status_code == 302
    assert db.session.scalar(select(ManagedCourse.slug)) == "iso-co-ban"


def test_attachments_are_served_safely_and_only_to_those_who_may_see_the_course(client, db, login_as):
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip())
    assert upload(client, "mau-phieu.pdf", PDF, course="iso-co-ban").status_code == 302
    assert upload(client, "so-do.png", png_bytes(), course="iso-co-ban").status_code == 302
    text = course_files()["iso-co-ban/03-pdca.md"].decode() + "\n![Sơ đồ](attachments/so-do.png) [Phiếu](attachments/mau-phieu.pdf)\n"
    edit_lesson(client, "03-pdca.md", text)
    draft = client.get("/materials/iso-co-ban/draft/files/mau-phieu.pdf")
    assert draft.status_code == 200 and draft.data == PDF
    assert db.session.scalar(select(db.func.count()).select_from(Blob)) == 2

    official = as_official(client)
    assert client.get("/materials/iso-co-ban/draft/files/mau-phieu.pdf").status_code == 403
    assert client.get("/courses/iso-co-ban/files/mau-phieu.pdf").status_code == 404  # not published yet
    client.post("/logout")
    login_as("trainer")
    publish(client, "Thêm phiếu")
    client.post("/logout")
    client.post("/login", data={"username": official.username, "password": factories.PASSWORD})
    page = client.get("/courses/iso-co-ban/pdca").get_data(as_text=True)
    assert 'src="/courses/iso-co-ban/files/so-do.png"' in page and 'href="/courses/iso-co-ban/files/mau-phieu.pdf"' in page
    pdf = client.get("/courses/iso-co-ban/files/mau-phieu.pdf")
    assert pdf.data == PDF and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="mau-phieu.pdf"'
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    image = client.get("/courses/iso-co-ban/files/so-do.png")
    assert image.headers["Content-Type"] == "image/png" and image.headers["Content-Disposition"].startswith("inline")
    client.post("/logout")
    assert client.get("/courses/iso-co-ban/files/mau-phieu.pdf").status_code == 302  # to the login page


def test_a_single_lesson_and_a_bank_go_into_an_existing_course(client, db, login_as):
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip(bank=False))  # the bank is missing: refused whole
    assert db.session.scalar(select(ManagedCourse)) is None
    upload(client, "iso-co-ban.zip", course_zip())
    lesson = '---\ntitle: "Bài 4. Đo lường"\norder: 4\n---\nNội dung bài bốn.\n'
    assert upload(client, "04-do-luong.md", lesson.encode(), course="iso-co-ban").status_code == 302
    bank = BANK.read_text().replace("Có bao nhiêu nguyên tắc", "Bao nhiêu nguyên tắc")
    assert upload(client, "ngan-hang.gift", bank.encode(), course="iso-co-ban").status_code == 302
    draft = db.session.scalar(select(ManagedCourse.draft))
    assert "04-do-luong.md" in draft["files"]
    assert draft["bank"]["name"] == "iso-co-ban.gift" and "Bao nhiêu nguyên tắc" in draft["bank"]["text"]


def test_upload_limit_is_raised_for_the_upload_form_only(app, client, db, login_as):
    login_as("trainer")
    upload(client, "iso-co-ban.zip", course_zip())
    big_pdf = PDF + b"0" * (12 * 1024 * 1024)  # above the site's 8 MB, below the form's 20 MB
    assert upload(client, "lon.pdf", big_pdf, course="iso-co-ban").status_code == 302
    too_big_elsewhere = client.post("/materials/iso-co-ban/publish", data={"note": "x" * (9 * 1024 * 1024)})
    assert too_big_elsewhere.status_code == 413


def test_zip_without_course_md_is_refused(client, db, login_as):
    login_as("trainer")
    before = table_counts()
    response = upload(client, "tai-lieu.zip", make_zip({"readme.txt": b"hello"}))
    assert response.status_code == 422
    assert "course.md" in response.get_data(as_text=True)
    assert table_counts() == before


def test_unknown_courses_are_not_found(client, login_as):
    login_as("admin")
    for path in ("/materials/khong-co", "/materials/khong-co/files/course.md", "/materials/khong-co/diff"):
        assert client.get(path).status_code == 404
    for path in ("/materials/khong-co/lessons", "/materials/khong-co/files/01-a.md/move",
                 "/materials/khong-co/files/01-a.md/retire"):
        assert client.post(path, data={"title": "x"}).status_code == 404
    assert client.post("/materials/khong-co/publish", data={"note": "x"}).status_code == 404
    assert client.post("/materials/khong-co/rollback", data={"number": "1", "note": "x"}).status_code == 404
