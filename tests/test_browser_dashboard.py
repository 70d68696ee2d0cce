"""Browser, committee-sized screen: the dashboard from the province down to a commune, and the
spreadsheet of that commune's officials."""
import io

import pytest
from openpyxl import load_workbook

from learnhub.config import VIETNAM_TZ
from learnhub.models_base import utcnow

from . import factories
from .browser import log_in
from .dashboard_world import course, fixture, programme  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def wide_page(_browser):
    """Committee members work at a desk: a 1280 px wide window that accepts downloads."""
    context = _browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page
    context.close()


def test_committee_drills_from_province_to_commune_and_downloads_xlsx(server_url, db, fixture, wide_page):
    page = wide_page
    factories.make_user("committee", unit_code="24", username="bcd-tinh")
    log_in(page, server_url, "bcd-tinh")
    page.get_by_role("link", name="Bảng theo dõi").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bảng theo dõi của Ban Chỉ đạo"
    chart = page.locator("svg#chart-certified")
    assert "Huyện Lạng Giang: 25% (1/4)" in chart.locator("desc").text_content()

    page.locator("#table-completion").get_by_role("link", name="Huyện Lạng Giang").click()
    assert page.locator("nav.crumbs [aria-current=page]").inner_text() == "Huyện Lạng Giang"
    vôi = page.locator("#table-completion tbody tr", has_text="Thị trấn Vôi")
    assert vôi.locator("td").first.inner_text() == "3"

    vôi.get_by_role("link", name="Thị trấn Vôi").click()
    assert page.locator("nav.crumbs [aria-current=page]").inner_text() == "Thị trấn Vôi"
    officials = page.locator("#table-officials tbody tr")
    assert officials.locator("th").all_inner_texts() == ["An Văn A", "Bình Thị B", "Cường Văn C"]

    with page.expect_download() as info:
        page.locator("#officials-h").locator("..").get_by_role("link", name="Excel (.xlsx)").click()
    download = info.value
    today = utcnow().astimezone(VIETNAM_TZ).date().isoformat()
    assert download.suggested_filename == f"officials_iso-2021-xa_D217-01_{today}.xlsx"
    with open(download.path(), "rb") as f:
        sheet = load_workbook(io.BytesIO(f.read())).active
    assert sheet.title == "Cán bộ, công chức"
    assert "Thị trấn Vôi" in sheet["A1"].value
    assert [sheet.cell(row=r, column=1).value for r in range(4, 7)] == ["An Văn A", "Bình Thị B", "Cường Văn C"]
