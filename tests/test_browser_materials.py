"""Browser, phone-sized, CSRF on: a trainer uploads a zipped course, previews a lesson and
publishes; an official reads it; the trainer edits and publishes; the official sees the
change; the trainer rolls back; the official sees the earlier text again."""
import pytest
from playwright.sync_api import expect

from . import factories
from .materials_helpers import course_zip
from .browser import log_in, open_menu

pytestmark = pytest.mark.browser

LESSON = "/courses/iso-co-ban/he-thong-la-gi"


@pytest.fixture
def site(app, db, units, server_url):
    app.config["WTF_CSRF_ENABLED"] = True
    yield server_url
    app.config["WTF_CSRF_ENABLED"] = False


def publish(page, note):
    page.fill("#materials-publish-note", note)
    with page.expect_navigation():
        page.locator("#materials-publish ~ form button.primary").click()
    expect(page.locator(".flash.success")).to_contain_text("Đã công bố phiên bản")


def official_reads(page, site):
    page.goto(site + LESSON)
    return page.locator(".prose").first.inner_text()


def test_trainer_publishes_edits_and_rolls_back_official_follows(site, page, _browser, tmp_path):
    trainer = factories.make_user("trainer", username="gv-browser")
    official = factories.make_user("official")
    zipped = tmp_path / "iso-co-ban.zip"
    zipped.write_bytes(course_zip())

    log_in(page, site, trainer.username)
    open_menu(page)
    page.get_by_role("link", name="Học liệu").click()
    expect(page.locator("h1")).to_have_text("Học liệu")
    page.set_input_files("#materials-upload-file", str(zipped))
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên vào bản nháp").click()
    expect(page.locator(".flash.success")).to_contain_text("bản nháp của iso-co-ban")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing overflows a phone

    # Preview a lesson, without leaving the editor: the same pipeline as published pages.
    page.get_by_role("link", name="Bài 1. Hệ thống quản lý chất lượng là gì").click()
    source = page.locator("#materials-source")
    source.fill(source.input_value() + "\n<script>document.title='hacked'</script>\n### Mục xem trước\n")
    expect(page.locator("#materials-preview h3")).to_have_text("Mục xem trước")  # the live preview follows typing
    with page.expect_navigation():  # and the Preview button posts the form, as without script
        page.get_by_role("button", name="Xem trước", exact=True).click()
    expect(page.locator("#materials-preview h3")).to_have_text("Mục xem trước")
    expect(page.locator("#materials-preview script")).to_have_count(0)
    assert page.title() != "hacked"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(site + "/materials/iso-co-ban")
    publish(page, "Ban hành lần đầu")

    reader = _browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
    log_in(reader, site, official.username)
    assert "Mở đầu bài một." in official_reads(reader, site)
    assert reader.evaluate("document.documentElement.scrollWidth") <= 360

    # The trainer edits the lesson and publishes version 2.
    page.get_by_role("link", name="Bài 1. Hệ thống quản lý chất lượng là gì").click()
    source = page.locator("#materials-source")
    source.fill(source.input_value().replace("Mở đầu bài một.", "Mở đầu đã cập nhật theo quy trình mới."))
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu vào bản nháp").click()
    assert "Mở đầu bài một." in official_reads(reader, site)  # a draft is not seen
    publish(page, "Cập nhật mở đầu")
    assert "Mở đầu đã cập nhật theo quy trình mới." in official_reads(reader, site)

    # The trainer rolls back to version 1, published again as version 3.
    page.fill("#materials-rollback-1", "Quay lại bản đã duyệt")
    with page.expect_navigation():
        page.get_by_role("button", name="Công bố lại phiên bản 1").click()
    expect(page.locator(".flash.success")).to_contain_text("thành phiên bản 3")
    page.goto(site + "/materials/iso-co-ban/diff?from=2&to=3")
    expect(page.locator("pre.diff .add").first).to_contain_text("Mở đầu bài một.")
    page.goto(site + "/materials")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    text = official_reads(reader, site)
    assert "Mở đầu bài một." in text and "đã cập nhật" not in text
    reader.context.close()
