"""The committee's dashboard: figures checked against a hand-computed fixture, scope on every
URL and file, exports equal to the screen, the one-page PDF, and a query count that does not
grow with the units and officials shown."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from learnhub.attendance.services import create_session, mark
from learnhub.audit.services import chain_head
from learnhub.catalog.models import Lesson
from learnhub.config import VIETNAM_TZ
from learnhub.catalog.services import course_by_slug, mark_lesson_done
from learnhub.certificates.services import active_certificate, revoke
from learnhub.materials.sync import sync_content
from learnhub.models_base import utcnow
from learnhub.orgs.services import load_units_csv
from learnhub.programmes.services import create_programme
from learnhub.quizzes.attempts import finish_attempt, grade_essay, quiz_for, save_answers, start_attempt
from learnhub.quizzes.autofill import answer_form

from . import factories
from .querycount import count_queries
from .test_certificates import pdf_objects
from .dashboard_world import course, csv_rows, fixture, page_text, programme, row_of, take_course  # noqa: F401 (fixtures)


def test_province_figures_match_the_hand_count(client, db, fixture, programme, login_as):
    login_as("committee", unit_code="24")
    text = page_text(client.get("/reports/"))
    assert "Tập huấn ISO 2021 — cấp xã" in text
    # enrolled, attended, completed, passed, valid, revoked, expired, remaining
    assert row_of(text, "Huyện Lạng Giang") == "4 2 (50%) 2 (50%) 2 (50%) 1 (25%) 1 0 3 (75%)"
    assert row_of(text, "Thành phố Bắc Giang") == "2 1 (50%) 1 (50%) 1 (50%) 0 (0%) 0 1 2 (100%)"
    assert row_of(text, "Huyện Yên Thế") == "0 0 (—) 0 (—) 0 (—) 0 (—) 0 0 0 (—)"
    assert row_of(text, "Tổng cộng") == "6 3 (50%) 3 (50%) 3 (50%) 1 (17%) 1 1 5 (83%)"
    # Lagging communes: lowest rate first, more still to go first among equals.
    lagging = text[text.index("Đơn vị chậm tiến độ"):]
    assert lagging.index("Phường Trần Phú") < lagging.index("Thị trấn Kép") < lagging.index("Thị trấn Vôi")
    # Attendance by session: present, late, excused, absent, attended of marked.
    assert re.search(r"Hội nghị Lạng Giang [\d/]+ 1 1 1 1 2 \(50%\)", text)
    assert re.search(r"Hội nghị TP Bắc Giang [\d/]+ 1 0 0 1 1 \(50%\)", text)


def test_drill_down_to_a_commune_lists_its_officials(client, db, fixture, programme, login_as):
    login_as("committee", unit_code="24")
    province = client.get("/reports/").get_data(as_text=True)
    assert 'href="/reports/?program=iso-2021-xa&amp;unit=217"' in province
    district = page_text(client.get("/reports/?program=iso-2021-xa&unit=217"))
    assert row_of(district, "Thị trấn Vôi") == "3 2 (67%) 2 (67%) 2 (67%) 1 (33%) 1 0 2 (67%)"
    assert row_of(district, "Thị trấn Kép") == "1 0 (0%) 0 (0%) 0 (0%) 0 (0%) 0 0 1 (100%)"
    commune = page_text(client.get("/reports/?program=iso-2021-xa&unit=D217-01"))
    # name, username, unit, position, conference, lessons, attempts, best score, courses, certificate
    assert "An Văn A cb-a Thị trấn Vôi Có mặt 3/3 1 100 1/1 Còn hiệu lực" in commune
    assert "Bình Thị B cb-b Thị trấn Vôi Đến muộn 3/3 1 100 1/1 Đã thu hồi" in commune
    assert "Cường Văn C cb-c Thị trấn Vôi Vắng 3/3 1 0 0/1 —" in commune
    assert "Dung Thị D" not in commune


def test_weak_topics_are_the_share_of_right_answers_by_category_and_unit(client, db, fixture, login_as):
    login_as("committee", unit_code="24")
    text = page_text(client.get("/reports/weak-topics"))
    # Vôi: A and B right, C wrong: 6 right of 9 answers in each category; E right in Trần Phú.
    assert row_of(text, "Huyện Lạng Giang") == "67% 67%"
    assert row_of(text, "Thành phố Bắc Giang") == "100% 100%"
    assert row_of(text, "Huyện Yên Thế") == "— —"
    assert row_of(text, "Tổng cộng") == "75% 75%"
    html = client.get("/reports/weak-topics").get_data(as_text=True)
    assert re.search(r'class="num shade shade-1">\s*67%', html)  # shaded, and the number written
    rows = csv_rows(client.get("/reports/weak-1.csv?unit=217"))
    assert rows[0] == ["Mã đơn vị", "Đơn vị", "cau-truc (%)", "nguyen-tac (%)"]
    assert rows[1][:4] == ["D217-01", "Thị trấn Vôi", "67", "67"]


def test_exports_carry_the_screen_numbers_with_title_scope_and_date(client, db, fixture, programme, login_as):
    login_as("committee", unit_code="24")
    response = client.get("/reports/completion.csv?program=iso-2021-xa&unit=217")
    rows = csv_rows(response)
    today = utcnow().astimezone(VIETNAM_TZ).date().isoformat()
    assert f"completion_iso-2021-xa_217_{today}.csv" in response.headers["Content-Disposition"]
    assert [r[1] for r in rows[1:]] == ["Thị trấn Vôi", "Thị trấn Kép", "Xã Tân Dĩnh", "Xã Yên Mỹ", "Xã Tiên Lục",
                                        "Tổng cộng"]  # one row per child unit, then the total
    assert rows[0][:5] == ["Mã đơn vị", "Đơn vị", "Thuộc diện tập huấn", "Tham dự hội nghị", "Tham dự hội nghị (%)"]
    assert rows[1][:5] == ["D217-01", "Thị trấn Vôi", "3", "2", "67"]
    response = client.get("/reports/completion.xlsx?program=iso-2021-xa&unit=217")
    assert f"completion_iso-2021-xa_217_{today}.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "Tiến độ"
    title = sheet["A1"].value
    assert "Tập huấn ISO 2021 — cấp xã" in title and "Huyện Lạng Giang" in title
    assert utcnow().astimezone(VIETNAM_TZ).strftime("%d/%m/%Y") in title
    assert [c.value for c in sheet[3]][:3] == rows[0][:3]
    vôi = [c for c in sheet[4]]
    assert [c.value for c in vôi[:4]] == ["D217-01", "Thị trấn Vôi", 3, 2]
    assert vôi[4].value == pytest.approx(2 / 3) and vôi[4].number_format == "0%"
    assert sheet.column_dimensions["B"].width >= 20
    # Every other table downloads too, with the same figures as its screen table.
    for name in ("lagging", "sessions", "weekly", "weak-1"):
        assert csv_rows(client.get(f"/reports/{name}.csv"))[0]
        assert load_workbook(io.BytesIO(client.get(f"/reports/{name}.xlsx").data)).active.max_row >= 3
    officials = csv_rows(client.get("/reports/officials.csv?unit=D217-01"))
    assert [r[0] for r in officials[1:]] == ["An Văn A", "Bình Thị B", "Cường Văn C"]
    assert client.get("/reports/nothing.csv").status_code == 404


def test_spreadsheet_cells_never_run_as_formulas(client, db, fixture, login_as):
    fixture["A"].full_name = "=HYPERLINK(\"http://x\",\"A\")"
    db.session.commit()
    login_as("committee", unit_code="24")
    rows = csv_rows(client.get("/reports/officials.csv?unit=D217-01"))
    assert rows[1][0].startswith("'=")
    sheet = load_workbook(io.BytesIO(client.get("/reports/officials.xlsx?unit=D217-01").data)).active
    assert any(str(c.value).startswith("'=") for c in sheet["A"])


def test_sorting_by_a_column(client, db, fixture, login_as):
    login_as("committee", unit_code="24")
    text = page_text(client.get("/reports/?sort=enrolled&dir=desc"))
    assert text.index("Huyện Lạng Giang") < text.index("Thành phố Bắc Giang") < text.index("Huyện Yên Thế")
    text = page_text(client.get("/reports/?sort=unit&dir=asc"))
    assert text.index("Huyện Hiệp Hòa") < text.index("Huyện Lạng Giang") < text.index("Thành phố Bắc Giang")
    rows = csv_rows(client.get("/reports/completion.csv?sort=enrolled&dir=desc"))
    assert rows[1][1] == "Huyện Lạng Giang" and rows[2][1] == "Thành phố Bắc Giang"


def test_district_member_cannot_reach_another_district(client, db, fixture, programme, login_as):
    login_as("committee", unit_code="217")
    text = page_text(client.get("/reports/"))
    assert row_of(text, "Tổng cộng") == "4 2 (50%) 2 (50%) 2 (50%) 1 (25%) 1 0 3 (75%)"
    assert "Trần Phú" not in text and "Hội nghị TP Bắc Giang" not in text
    for target in ("213", "D213-01", "24"):
        for path in ("/reports/", "/reports/weak-topics", "/reports/dashboard.pdf", "/reports/completion.csv",
                     "/reports/completion.xlsx", "/reports/officials.csv", "/reports/lagging.xlsx",
                     "/reports/sessions.csv", "/reports/weekly.csv", "/reports/weak-1.csv"):
            assert client.get(f"{path}?program=iso-2021-xa&unit={target}").status_code == 403, (path, target)
    for path in ("/reports/officials.csv", "/reports/lagging.csv", "/reports/sessions.csv", "/reports/weak-1.csv",
                 "/reports/completion.csv", "/reports/weekly.csv"):
        body = client.get(path).data.decode("utf-8-sig")
        assert "Trần Phú" not in body and "Em Văn E" not in body and "TP Bắc Giang" not in body, path
    weekly = csv_rows(client.get("/reports/weekly.csv"))
    assert weekly[-1][1:] == ["2", "1"]  # A and B completed; A's certificate stands (B's was revoked)
    assert client.get("/reports/?unit=NOPE").status_code == 404
    assert "NOPE" in client.get("/reports/?unit=NOPE").get_data(as_text=True)
    assert client.get("/reports/?program=nope").status_code == 404
    client.post("/logout")
    login_as("official", unit_code="D217-01")
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/completion.csv").status_code == 403


def test_one_page_pdf_with_numbers_chart_lagging_and_chain_head(client, db, fixture, login_as, monkeypatch):
    import weasyprint

    rendered = {}
    real = weasyprint.HTML

    def keep(*args, string=None, **kwargs):
        rendered["html"] = string
        return real(*args, string=string, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", keep)
    login_as("committee", unit_code="24")
    head = str(chain_head())
    response = client.get("/reports/dashboard.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf_objects(response.data))) == 1
    html = rendered["html"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)))
    assert head in text and head.split(":")[0] != "0"
    assert utcnow().astimezone(VIETNAM_TZ).strftime("%d/%m/%Y") in text
    assert "Tỉnh Bắc Giang" in text
    assert "6 3 (50%) 1 (17%) 1 1 5 (83%)" in text  # enrolled, attended, valid, revoked, expired, remaining
    assert '<svg' in html and "<title" in html and "Huyện Lạng Giang: 25% (1/4)" in html  # the chart, in words too
    assert text.index("Phường Trần Phú") < text.index("Thị trấn Kép")  # the lagging units




PAGES = ["/reports/", "/reports/?unit=217", "/reports/?unit=D217-01", "/reports/weak-topics",
         "/reports/completion.csv", "/reports/completion.xlsx", "/reports/officials.xlsx?unit=D217-01",
         "/reports/lagging.csv", "/reports/dashboard.pdf", "/reports/dashboard.pdf?unit=217"]


def _populate(db, programme, communes: int, per_commune: int, trainer):
    rows = "\n".join(f"X217-{i},Xã Mới {i},commune,Xã,217" for i in range(communes))
    load_units_csv("code,name,level,kind,parent_code\n" + rows + "\n")
    db.session.commit()
    codes = ["D217-01"] + [f"X217-{i}" for i in range(communes)]
    n = 0
    for code in codes:
        for _ in range(per_commune):
            n += 1
            user = factories.make_user("official", unit_code=code)
            if n % 2:
                take_course(db, user, trainer, right=n % 3 == 0, seed=n)


def test_query_count_does_not_grow_with_units_or_officials(client, db, programme, login_as):
    trainer = db.session.scalar(select(factories.User).where(factories.User.username == "giangvien"))
    _populate(db, programme, communes=1, per_commune=1, trainer=trainer)
    login_as("committee", unit_code="24")
    small = {p: count_queries(db, lambda p=p: client.get(p)) for p in PAGES}
    _populate(db, programme, communes=0, per_commune=0, trainer=trainer)
    more = "\n".join(f"Y217-{i},Xã Thêm {i},commune,Xã,217" for i in range(12))
    load_units_csv("code,name,level,kind,parent_code\n" + more + "\n")
    db.session.commit()
    for i in range(12):
        for k in range(3):
            user = factories.make_user("official", unit_code=f"Y217-{i}")
            if k == 0:
                take_course(db, user, trainer, right=i % 2 == 0, seed=i)
    for k in range(6):
        factories.make_user("official", unit_code="D217-01")
    large = {p: count_queries(db, lambda p=p: client.get(p)) for p in PAGES}
    assert large == small
    assert all(n <= 40 for n in small.values()), small
    # 18 communes in Lạng Giang now: the PDF's chart keeps the 15 lowest and stays on one page.
    pdf = client.get("/reports/dashboard.pdf?unit=217").data
    assert len(re.findall(rb"/Type\s*/Page\b", pdf_objects(pdf))) == 1


def test_memo_reuses_aggregates_but_never_across_scopes(app, client, db, fixture, login_as):
    from learnhub.reports import memo

    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    memo.forget()
    try:
        login_as("committee", unit_code="217")
        first = page_text(client.get("/reports/"))
        assert row_of(first, "Tổng cộng").startswith("4 ")
        fresh = count_queries(db, lambda: client.get("/reports/"))
        client.post("/logout")
        login_as("committee", unit_code="24")  # a wider scope: its own figures, not the district's
        assert row_of(page_text(client.get("/reports/")), "Tổng cộng").startswith("6 ")
        memo.forget()
        cold = count_queries(db, lambda: client.get("/reports/"))
        warm = count_queries(db, lambda: client.get("/reports/"))
        assert warm < cold and fresh == warm
        assert "Số liệu tính lúc" in page_text(client.get("/reports/"))
    finally:
        app.config["DASHBOARD_CACHE_SECONDS"] = 0
        memo.forget()


def test_programme_and_year_selector(client, db, fixture, programme, course, login_as):
    from datetime import datetime, timezone

    old = create_programme(code="iso-2025", title="Tập huấn ISO 2025", description="", courses=[course],
                           target_units=[factories.unit("217")], requires_attendance=False, deadline=None,
                           validity_months=0, issuer_name="", by=None)
    old.created_at = datetime(2025, 3, 1, tzinfo=timezone.utc)
    db.session.commit()
    login_as("committee", unit_code="24")
    page = client.get("/reports/").get_data(as_text=True)
    assert '<option value="iso-2021-xa" selected>' in page  # the newest open programme by default
    assert '<option value="2025">2025</option>' in page
    text = page_text(client.get("/reports/?year=2025"))
    assert "Tập huấn ISO 2025, phạm vi Tỉnh Bắc Giang" in text
    assert row_of(text, "Tổng cộng").startswith("4 ")  # only Lạng Giang is enrolled in it
    # A programme of another year than the one chosen gives way to that year's programme.
    assert "Tập huấn ISO 2025, phạm vi" in page_text(client.get("/reports/?year=2025&program=iso-2021-xa"))
    missing = client.get("/reports/?year=1999")
    assert missing.status_code == 404 and "1999" in missing.get_data(as_text=True)


def test_lagging_units_against_the_deadline(client, db, fixture, programme, login_as):
    programme.deadline = utcnow().astimezone(VIETNAM_TZ).date() + timedelta(days=14)
    db.session.commit()
    login_as("committee", unit_code="24")
    assert "còn 14 ngày" in page_text(client.get("/reports/"))
    rows = csv_rows(client.get("/reports/lagging.csv"))
    assert rows[0][-1] == "Cần cấp mỗi tuần để kịp hạn"
    # code, unit, part of, enrolled, certified, %, still to go, needed a week (2 weeks left)
    assert rows[1] == ["D213-01", "Phường Trần Phú", "Thành phố Bắc Giang", "2", "0", "0", "2", "1"]
    assert rows[2] == ["D217-02", "Thị trấn Kép", "Huyện Lạng Giang", "1", "0", "0", "1", "1"]
    assert rows[3] == ["D217-01", "Thị trấn Vôi", "Huyện Lạng Giang", "3", "1", "33", "2", "1"]


def test_a_scope_with_many_sessions_shows_the_most_recent_and_exports_them_all(client, db, units, courses,
                                                                                 login_as):
    # A whole country holds one session per district: hundreds of them. The page stays light.
    trainer = factories.make_user("trainer", username="nhieu.hoi.nghi")
    programme = factories.make_programme(trainer, [courses["iso-co-ban"]])
    official = factories.make_user("official", unit_code="D217-01", username="di.hop")
    start = utcnow() - timedelta(days=40)
    for n in range(33):
        session = factories.make_session(programme, trainer, title=f"Hội nghị số {n + 1:02d}",
                                         starts_at=start + timedelta(days=n), ends_at=start + timedelta(days=n, hours=3))
        mark(session, official, "present", by=trainer, source="roll_call")
    db.session.commit()
    login_as("committee", unit_code="24")
    html = client.get("/reports/?program=iso-2021-xa").get_data(as_text=True)
    text = page_text(client.get("/reports/?program=iso-2021-xa"))
    assert "Đang hiện 30 hội nghị gần nhất; 3 hội nghị trước đó có trong tệp CSV và XLSX" in text
    assert "Hội nghị số 33" in text and "Hội nghị số 04" in text and "Hội nghị số 03" not in text
    assert html.count("Hội nghị số") < 3 * 33  # neither the chart nor the table lists them all
    rows = csv_rows(client.get("/reports/sessions.csv?program=iso-2021-xa"))
    assert sum(1 for row in rows if any(cell.startswith("Hội nghị số") for cell in row)) == 33
