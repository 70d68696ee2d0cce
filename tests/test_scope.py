"""Committee members see their unit and everything below it, nothing else."""
from learnhub.catalog.models import Course, Lesson
from learnhub.catalog.services import mark_lesson_done
from learnhub.programmes.services import create_programme

from . import factories


def _programme(db, course=None):
    """The dashboard shows a programme: one over the whole province."""
    if course is None:
        course = Course(slug="k", title="Khóa K")
        db.session.add(course)
        db.session.flush()
    create_programme(code="iso-2021", title="Tập huấn ISO 2021", description="", courses=[course],
                     target_units=[factories.unit("24")], requires_attendance=True, deadline=None,
                     validity_months=0, issuer_name="BCĐ", by=None)
    db.session.commit()


def _officials(db):
    lg = [factories.make_user("official", unit_code=c, full_name=n) for c, n in
          (("D217-01", "Lê Thị Vôi"), ("D217-04", "Phạm Văn Yên Mỹ"))]
    other = factories.make_user("official", unit_code="D213-01", full_name="Trần Văn Trần Phú")
    return lg, other


def test_district_member_sees_only_their_district(client, db, login_as):
    lg, other = _officials(db)
    _programme(db)
    login_as("committee", unit_code="217")
    page = client.get("/reports/officials").get_data(as_text=True)
    assert "Lê Thị Vôi" in page and "Phạm Văn Yên Mỹ" in page
    assert "Trần Văn Trần Phú" not in page
    report = client.get("/reports/").get_data(as_text=True)
    assert "Thị trấn Vôi" in report and "Phường Trần Phú" not in report
    outside = factories.unit("213")
    assert client.get(f"/reports/officials?unit={outside.id}").status_code == 403


def test_district_member_search_cannot_reach_other_districts(client, db, login_as):
    _officials(db)
    login_as("committee", unit_code="217")
    page = client.get("/reports/officials?q=trần phú").get_data(as_text=True)
    assert "Trần Văn Trần Phú" not in page


def test_province_member_sees_every_district(client, db, login_as):
    lg, other = _officials(db)
    _programme(db)
    login_as("committee", unit_code="24")
    page = client.get("/reports/officials").get_data(as_text=True)
    assert "Lê Thị Vôi" in page and "Trần Văn Trần Phú" in page
    report = client.get("/reports/").get_data(as_text=True)
    assert "Huyện Lạng Giang" in report and "Thành phố Bắc Giang" in report


def test_completion_counts_by_unit(client, db, login_as):
    course = Course(slug="k", title="Khóa K")
    db.session.add(course)
    db.session.flush()
    lessons = [Lesson(course_id=course.id, slug=f"l{i}", title=f"L{i}", position=i) for i in range(2)]
    db.session.add_all(lessons)
    db.session.flush()
    (done_user, half_user), other = _officials(db)
    _programme(db, course)
    factories.finish_lessons(done_user, course)
    mark_lesson_done(half_user.id, lessons[0])
    db.session.commit()
    login_as("committee", unit_code="217")
    report = client.get("/reports/").get_data(as_text=True)
    import re
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report))
    # enrolled, attended, completed Khóa K, certified, revoked, expired, remaining
    assert "Thị trấn Vôi 1 0 (0%) 1 (100%) 0 (0%) 0 0 1 (100%)" in text
    assert "Xã Yên Mỹ 1 0 (0%) 0 (0%) 0 (0%) 0 0 1 (100%)" in text
    assert "Tổng cộng 2 0 (0%) 1 (50%) 0 (0%) 0 0 2 (100%)" in text


def test_completion_report_downloads_as_csv_and_xlsx_within_scope(client, db, login_as):
    import csv
    import io

    from openpyxl import load_workbook

    _officials(db)
    _programme(db)
    login_as("committee", unit_code="217")
    page = client.get("/reports/").get_data(as_text=True)
    assert 'href="/reports/completion.xlsx?program=iso-2021&amp;unit=217"' in page
    assert 'href="/reports/completion.csv?program=iso-2021&amp;unit=217"' in page
    response = client.get("/reports/completion.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Mã đơn vị", "Đơn vị", "Thuộc diện tập huấn"]
    names = [r[1] for r in rows[1:]]
    assert "Thị trấn Vôi" in names and "Phường Trần Phú" not in names
    assert rows[-1][1] == "Tổng cộng" and rows[-1][2] == "2"
    book = load_workbook(io.BytesIO(client.get("/reports/completion.xlsx").data))
    sheet = [[c.value for c in row] for row in book.active.iter_rows()]
    assert sheet[2] == rows[0] and sheet[-1][2] == 2  # after the title and the table's name
    assert client.get("/reports/completion.pdf").status_code == 404
    client.post("/logout")
    login_as("official")
    assert client.get("/reports/completion.csv").status_code == 403
