"""Conference day in a real browser, phone-sized (360 px), CSRF on: a roll call of 300,
an official's first log-in from the QR code, and a signed sheet's dry run.

Set LEARNHUB_SCREENSHOTS to a folder to keep screenshots of the roll call and the dry run."""
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from learnhub.attendance.models import AttendanceRecord

from . import factories
from .conference_world import COMMUNES, conference  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("LEARNHUB_SCREENSHOTS")


@pytest.fixture
def site(app, db, server_url, conference):  # noqa: F811
    app.config["WTF_CSRF_ENABLED"] = True
    yield {"url": server_url, "session": conference[0], "trainer": conference[1]}
    app.config["WTF_CSRF_ENABLED"] = False


def log_in(page, url, username, password=factories.PASSWORD):
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def test_roll_call_of_300_search_all_present_then_one_exception(site, db, page):
    factories.make_officials(299, COMMUNES)
    an = factories.make_user("official", unit_code="D217-03", full_name="Nguyễn Văn An", position="Công chức Tư pháp")
    session = site["session"]
    log_in(page, site["url"], "giangvien")
    page.goto(f"{site['url']}/sessions/{session.id}")
    rows = page.locator("ul.rc > li")
    assert rows.count() == 300
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Compact rows with finger-sized buttons.
    heights = page.evaluate("[...document.querySelectorAll('ul.rc > li')].map(li => li.getBoundingClientRect().height)")
    assert max(heights) <= 64, max(heights)
    sizes = page.evaluate("[...document.querySelectorAll('.rc-st label, .rc-who')].map(e => "
                          "[e.getBoundingClientRect().width, e.getBoundingClientRect().height])")
    assert min(h for _w, h in sizes) >= 44 and min(w for w, _h in sizes) >= 44
    height = page.evaluate("document.body.scrollHeight")
    print(f"\nroll call of 300 at 360 px: document.body.scrollHeight = {height} px")
    if SCREENSHOTS:  # one long picture: the Save bar, pinned to the screen's bottom, drawn where it ends
        page.evaluate("document.querySelector('.quiz-actions').style.position = 'static'")
        page.screenshot(path=str(Path(SCREENSHOTS) / "rollcall-300.png"), full_page=True)
        page.evaluate("document.querySelector('.quiz-actions').style.position = ''")
    # The totals stay in view while scrolling through the list.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    box = page.locator("#totals").bounding_box()
    assert -1 <= box["y"] <= 1 and page.locator("#totals").is_visible()
    assert page.locator("[data-total=unmarked]").inner_text() == "300"

    # Find by name, accents optional.
    page.fill("#q", "nguyen van an")
    with page.expect_navigation():
        page.locator(".rc-filter button").click()
    assert [r.inner_text().split("\n")[0] for r in page.locator("ul.rc > li .name").all()] == ["Nguyễn Văn An"]

    # One commune: everyone present, then one exception.
    page.goto(f"{site['url']}/sessions/{session.id}")
    kep = factories.unit("D217-02")
    page.select_option("#unit", str(kep.id))
    with page.expect_navigation():
        page.locator(".rc-filter button").click()
    assert page.locator("ul.rc > li").count() == 60
    with page.expect_navigation():
        page.locator("button.all-present").click()
    assert "60 cán bộ của Thị trấn Kép đã được ghi có mặt" in page.locator(".flash").inner_text()
    assert page.locator("[data-total=present]").inner_text() == "60"
    exception = page.locator("ul.rc > li").nth(7)
    exception_id = int(exception.get_attribute("id").split("-")[1])
    exception.locator("label.st-absent").click()
    # Saved at once by the page's script: the totals follow without a reload.
    page.locator("[data-total=absent]").filter(has_text="1").wait_for()
    assert page.locator("[data-total=present]").inner_text() == "59"
    page.reload()
    assert page.locator(f"#official-{exception_id} input[value=absent]").is_checked()
    marks = dict(db.session.execute(select(AttendanceRecord.status, AttendanceRecord.user_id)
                                    .where(AttendanceRecord.status == "absent")).all())
    assert marks == {"absent": exception_id} and an.id != exception_id
    assert [s for (s,) in db.session.execute(select(AttendanceRecord.status))].count("present") == 59


def test_qr_scan_by_an_official_who_never_logged_in(site, db, page):
    official = factories.make_user("official", unit_code="D217-04", full_name="Ngô Thị Lần Đầu")
    official.set_temporary_password("tam-abc-2345")
    db.session.commit()
    session = site["session"]
    page.goto(f"{site['url']}/check-in?code={session.checkin_code}")  # what the phone's camera opens
    assert page.locator("h1").inner_text() == "Đăng nhập"
    log_in_here = page.url
    assert "next=" in log_in_here
    page.fill("#username", official.username)
    page.fill("#password", "tam-abc-2345")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Đổi mật khẩu"
    page.fill("#current", "tam-abc-2345")
    page.fill("#new", "mat-khau-cua-toi")
    page.fill("#confirm", "mat-khau-cua-toi")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == session.title
    assert db.session.scalar(select(AttendanceRecord)) is None  # nothing until the tap
    with page.expect_navigation():
        page.click("#check-in-now")
    assert "đã điểm danh" in page.locator("#checked-in").inner_text()
    record = db.session.scalar(select(AttendanceRecord))
    assert (record.user_id, record.status, record.source) == (official.id, "present", "self")


def test_import_dry_run_of_a_signed_sheet(site, db, page):
    kep = factories.make_user("official", unit_code="D217-02", full_name="Nguyễn Văn An", position="Chủ tịch UBND")
    luc = factories.make_user("official", unit_code="D217-05", full_name="Nguyễn Văn An", position="Công chức Địa chính")
    hoa = factories.make_user("official", unit_code="D217-01", full_name="Lê Thị Hoà", position="Văn phòng - Thống kê")
    bich = factories.make_user("official", unit_code="D217-03", full_name="Trần Thị Bích", position="Tư pháp - Hộ tịch")
    factories.make_user("official", unit_code="D217-04", full_name="Phạm Văn Dũng", position="Phó Chủ tịch UBND")
    sheet = ("STT,Họ và tên,Chức vụ,Đơn vị,Ký tên\n"
             "1,Nguyễn Văn An,Chủ tịch,Thị trấn Kép,x\n"
             "2,nguyen van an,,Tiên Lục,\n"
             "3,LÊ THỊ HÒA,,Vôi,Hoà\n"
             "4,Trần Thị  Bích,,xã Tân Dĩnh,x\n"
             "5,Phạm Dũng,,Yên Mỹ,x\n"
             "6,Nguyễn Văn An,,,x\n")
    log_in(page, site["url"], "giangvien")
    page.goto(f"{site['url']}/sessions/{site['session'].id}/import")
    page.set_input_files("#file", files=[{"name": "ky-ten.csv", "mimeType": "text/csv", "buffer": sheet.encode()}])
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    text = page.locator("main").inner_text()
    assert "Đã đọc 6 dòng: 4 dòng khớp, 2 dòng chờ bạn quyết định." in text
    wide = page.evaluate("[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 361"
                         " && !e.closest('table')).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "import-dryrun.png"), full_page=True)
    dung = page.locator("#pick-6 option", has_text="Phạm Văn Dũng").get_attribute("value")
    page.select_option("#pick-6", dung)
    page.select_option("#pick-7", "skip")
    with page.expect_navigation():
        page.locator("#import-form button[type=submit]").click()
    assert "Đã nhập điểm danh: 5 dòng" in page.locator(".flash").inner_text()
    marks = {r.user_id: r.status for r in db.session.scalars(select(AttendanceRecord))}
    assert marks == {kep.id: "present", luc.id: "absent", hoa.id: "present", bich.id: "present", int(dung): "present"}


def test_roll_call_works_without_javascript(site, db, _browser):
    factories.make_officials(20, COMMUNES[:2])
    context = _browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10000)
    try:
        log_in(page, site["url"], "giangvien")
        page.goto(f"{site['url']}/sessions/{site['session'].id}")
        vôi = factories.unit("D217-01")
        with page.expect_navigation():
            page.locator(f"button[form=all-present-{vôi.id}]").click()
        assert "10 cán bộ của Thị trấn Vôi đã được ghi có mặt" in page.locator(".flash").inner_text()
        row = page.locator("ul.rc > li").first
        row_id = row.get_attribute("id")
        row.locator("label.st-late").click()
        with page.expect_navigation():
            page.locator("#roll-form .quiz-actions button").click()
        assert "Đã lưu điểm danh" in page.locator(".flash").inner_text()
        assert page.locator(f"#{row_id} input[value=late]").is_checked()
        assert page.locator("[data-total=present]").inner_text() == "9"
        assert page.locator("[data-total=late]").inner_text() == "1"
        assert page.locator("[data-total=unmarked]").inner_text() == "10"
    finally:
        context.close()
