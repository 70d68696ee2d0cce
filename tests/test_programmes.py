"""Training programmes: who is enrolled, who may manage them, and the programme form."""
import re

from sqlalchemy import select

from learnhub.catalog.services import course_by_slug
from learnhub.programmes.services import enrolled_officials

from . import factories


def test_enrolment_follows_the_unit_tree_including_new_officials(db, programme):
    inside = factories.make_user("official", unit_code="D217-02")
    outside = factories.make_user("official", unit_code="D213-01")
    later = factories.make_user("official", unit_code="D217-05")
    ids = set(db.session.scalars(select(enrolled_officials(programme).subquery().c.id)))
    assert inside.id in ids and later.id in ids and outside.id not in ids


def test_officials_cannot_manage_programmes(client, programme, login_as):
    login_as("official")
    assert client.get("/programmes").status_code == 403
    assert client.get(f"/programmes/{programme.code}/certificates").status_code == 403


def test_trainer_creates_a_programme_and_bad_input_is_explained_by_each_field(client, db, programme, login_as):
    login_as("trainer")
    course = course_by_slug("iso-co-ban")
    district = factories.unit("218")
    page = client.post("/programmes/new", data={
        "title": "", "code": "Tập huấn!", "validity_months": "mười", "deadline": "31/12/2026"}).get_data(as_text=True)
    for field, message in (("title", "Hãy nhập tên."), ("code", "Dùng từ 2 đến 60 chữ cái không dấu"),
                           ("courses", "Hãy chọn ít nhất một khóa học bắt buộc."),
                           ("units", "Hãy chọn ít nhất một đơn vị áp dụng."),
                           ("validity_months", "Hãy nhập một số nguyên."), ("deadline", "Ngày không hợp lệ.")):
        error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
        assert error and message in error.group(1), field
    assert "Not a valid" not in page
    taken = client.post("/programmes/new", data={
        "title": "Khác", "code": programme.code, "courses": str(course.id), "units": str(district.id),
        "validity_months": "12"}).get_data(as_text=True)
    assert re.search(r'id="code-error">[^<]*đã được dùng', taken)
    response = client.post("/programmes/new", data={
        "title": "Tập huấn ISO 2022 — Hiệp Hòa", "code": "iso-2022-hh", "courses": str(course.id),
        "units": str(district.id), "requires_attendance": "y", "deadline": "2026-12-31", "validity_months": "24",
        "issuer_name": "Ban Chỉ đạo ISO tỉnh"})
    assert response.headers["Location"].endswith("/programmes/iso-2022-hh")
    from learnhub.programmes.models import TrainingProgramme
    created = db.session.scalar(select(TrainingProgramme).where(TrainingProgramme.code == "iso-2022-hh"))
    assert [c.slug for c in created.courses] == ["iso-co-ban"] and [u.code for u in created.target_units] == ["218"]
    assert created.validity_months == 24 and str(created.deadline) == "2026-12-31"
