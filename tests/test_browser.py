"""Real browser, phone-sized: an official reads and finishes a lesson; a district
committee member sees only their district. CSRF is on, as in production."""
import pytest

from learnhub.catalog.services import active_courses
from learnhub.extensions import db as _db
from learnhub.materials.sync import sync_content
from learnhub.programmes.services import create_programme

from . import factories
from .browser import log_in, open_menu

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app, courses, server_url):
    app.config["WTF_CSRF_ENABLED"] = True
    yield server_url
    app.config["WTF_CSRF_ENABLED"] = False


def test_official_reads_a_lesson_and_progress_changes(site, units, page):
    official = factories.make_user("official", full_name="Nguyễn Thị Hoa")
    log_in(page, site, official.username)
    assert page.locator("h1").inner_text() == "Khóa học"
    card = page.locator(".card", has_text="ISO cơ bản (khóa thử)")
    assert card.locator("progress").get_attribute("value") == "0"

    card.locator("h2 a").click()
    page.locator("a.button.primary").click()  # "Bắt đầu: Bài 1..."
    assert page.locator("h1").inner_text() == "Bài 1. Hệ thống quản lý chất lượng là gì"
    assert page.locator("nav.toc a[href='#khai-niem']").is_visible()
    assert page.locator(".prose table").count() == 1
    # Nothing overflows a 360 px screen sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    with page.expect_navigation():
        page.locator("button[value=stay]").click()
    assert page.locator(".flash.success").is_visible()
    assert page.locator("header .badge.done").is_visible()

    page.goto(f"{site}/")
    card = page.locator(".card", has_text="ISO cơ bản (khóa thử)")
    assert card.locator("progress").get_attribute("value") == "1"
    assert "1 trên 3" in card.inner_text()

    page.goto(f"{site}/my")
    left = page.locator("ol.left").inner_text()
    assert "Bài 1." not in left and "Bài 2." in left and "Bài 3." in left


def test_district_member_sees_only_their_district(site, units, page):
    factories.make_user("official", unit_code="D217-01", full_name="Lê Thị Vôi")
    factories.make_user("official", unit_code="D217-05", full_name="Đỗ Văn Tiên Lục")
    factories.make_user("official", unit_code="D213-01", full_name="Trần Văn Thành Phố")
    member = factories.make_user("committee", unit_code="217")
    create_programme(code="iso-2021", title="Tập huấn ISO 2021", description="", courses=active_courses()[:1],
                     target_units=[factories.unit("24")], requires_attendance=True, deadline=None,
                     validity_months=0, issuer_name="BCĐ", by=None)
    _db.session.commit()
    log_in(page, site, member.username)
    open_menu(page)
    page.locator("nav.menu a[href='/reports/']").click()
    report = page.locator("main table").first.inner_text()
    assert "Thị trấn Vôi" in report and "Xã Tiên Lục" in report
    assert "Trần Phú" not in report and "Hiệp Hòa" not in report
    page.locator("main a[href='/reports/officials']").click()  # search among the officials in scope
    names = page.locator("main tbody").inner_text()
    assert "Lê Thị Vôi" in names and "Đỗ Văn Tiên Lục" in names
    assert "Trần Văn Thành Phố" not in names
