"""The units page: the tree with codes and officials, and rename, move and merge with a preview
of the officials moved and the programmes whose enrolment changes; every change audited."""
import re

from sqlalchemy import func, select

from learnhub.audit.models import AuditEntry
from learnhub.auth.models import User
from learnhub.orgs.models import OrgUnit
from learnhub.programmes.services import enrolled_officials

from . import factories


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _unit(db, code):
    db.session.expire_all()
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def test_units_page_shows_codes_and_officials_per_unit(client, db, login_as):
    login_as("admin")
    for code in ("D217-01", "D217-01", "D217-02", "D213-01"):
        factories.make_user("official", unit_code=code)
    factories.make_user("official", unit_code="D217-01", is_active_account=False)  # not counted
    top = text_of(client.get("/admin/units/"))
    assert re.search(r"24 Tỉnh Bắc Giang › 4 ", top)
    district = text_of(client.get("/admin/units/217"))
    assert "3 cán bộ thuộc đơn vị này" in district
    assert re.search(r"D217-01 Thị trấn Vôi 2 ", district) and re.search(r"D217-02 [^0-9]+ 1 ", district)
    assert client.get("/admin/units/217").headers["Cache-Control"] == "no-store"  # an admin page
    client.post("/logout")
    login_as("trainer")
    assert client.get("/admin/units/").status_code == 403


def test_move_shows_a_preview_and_changes_nothing_until_confirmed(client, db, programme, login_as):
    login_as("admin")
    moving = [factories.make_user("official", unit_code="D217-03", full_name=f"Cán bộ Tân Dĩnh {i}") for i in range(2)]
    before = db.session.scalar(select(func.count()).select_from(enrolled_officials(programme).subquery()))
    page = text_of(client.post("/admin/units/D217-03/preview", data={"operation": "move", "target": "218"}))
    assert "2 cán bộ được chuyển theo thay đổi này" in page and "Cán bộ Tân Dĩnh 0" in page
    assert re.search(r"Tập huấn ISO 2021 — cấp xã \d+ \d+ 0 2", page)  # two leave Lạng Giang's programme
    assert _unit(db, "D217-03").parent.code == "217"  # the preview wrote nothing
    assert db.session.scalar(select(func.count()).select_from(enrolled_officials(programme).subquery())) == before
    done = client.post("/admin/units/D217-03/apply", data={"operation": "move", "target": "218"})
    assert done.status_code == 302
    assert _unit(db, "D217-03").parent.code == "218"
    assert db.session.scalar(select(func.count()).select_from(enrolled_officials(programme).subquery())) == before - 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unit.move"))
    assert entry.data["new_parent"] == "218" and entry.data["programmes"][programme.code] == {"joined": 0, "left": 2}
    assert moving[0].id  # their accounts are the same accounts


def test_merge_and_rename_are_previewed_applied_and_audited(client, db, login_as):
    login_as("admin")
    official = factories.make_user("official", unit_code="D217-03")
    page = text_of(client.post("/admin/units/D217-03/preview", data={"operation": "merge", "target": "D217-01"}))
    assert "1 cán bộ được chuyển" in page and "Không chương trình nào thay đổi danh sách học viên." in page
    client.post("/admin/units/D217-03/apply", data={"operation": "merge", "target": "D217-01"})
    db.session.expire_all()
    assert db.session.get(User, official.id).unit.code == "D217-01" and not _unit(db, "D217-03").is_active
    page = text_of(client.post("/admin/units/D217-01/preview", data={"operation": "rename", "name": "Vôi mới"}))
    assert "Đổi tên Thị trấn Vôi (D217-01) thành Thị trấn Vôi mới." in page
    client.post("/admin/units/D217-01/apply", data={"operation": "rename", "name": "Vôi mới"})
    assert _unit(db, "D217-01").name == "Vôi mới"
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("unit.%"))))
    assert actions == {"unit.merge", "unit.rename"}


def test_impossible_changes_are_refused_with_a_message(client, db, login_as):
    login_as("admin")
    response = client.post("/admin/units/217/preview", data={"operation": "move", "target": "D217-01"},
                           follow_redirects=True)
    assert "Không thể chuyển một đơn vị vào dưới chính nó" in text_of(response)
    response = client.post("/admin/units/217/apply", data={"operation": "merge", "target": "NOPE"},
                           follow_redirects=True)
    assert "Hãy chọn một đơn vị trong danh sách." in text_of(response)
    assert _unit(db, "217").is_active and _unit(db, "D217-01").parent.code == "217"
