"""Administrators' account work: edit, filter, XLSX import with limits, confirmation before
deactivating or replacing a password."""
import io
import re
import zipfile

from openpyxl import Workbook
from sqlalchemy import func, select

from learnhub.admin.models import ImportBatch
from learnhub.audit.models import AuditEntry
from learnhub.auth.models import User

from . import factories


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_admin_edits_name_position_unit_role_and_email(client, db, login_as):
    login_as("admin")
    user = factories.make_user("official", unit_code="D217-01", full_name="Nguyen Van A")
    form = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert 'value="Nguyen Van A"' in form and '<option selected value="D217-01">' in form
    response = client.post(f"/admin/users/{user.id}/edit", data={
        "full_name": "Nguyễn Văn An", "position": "Công chức Tư pháp - hộ tịch", "unit_code": "D213-01",
        "role": "trainer", "email": "an@example.vn", "phone": ""})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.full_name, user.position, user.unit.code, user.role, user.email) == (
        "Nguyễn Văn An", "Công chức Tư pháp - hộ tịch", "D213-01", "trainer", "an@example.vn")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.update"))
    assert entry.data["changed"]["unit"] == ["D217-01", "D213-01"] and entry.data["changed"]["role"] == ["official", "trainer"]


def test_edit_refuses_bad_input_next_to_the_field(client, db, login_as):
    admin = login_as("admin")
    user = factories.make_user("official", unit_code="D217-01")
    page = client.post(f"/admin/users/{user.id}/edit", data={
        "full_name": "X", "unit_code": "", "role": "official", "email": "khong-phai-thu"})
    text = text_of(page)
    assert page.status_code == 200 and "Địa chỉ thư điện tử không hợp lệ" in text
    page = client.post(f"/admin/users/{user.id}/edit", data={"full_name": "X", "unit_code": "", "role": "official"})
    assert "phải thuộc một đơn vị" in text_of(page)
    own = client.post(f"/admin/users/{admin.id}/edit", data={"full_name": "Quản trị", "unit_code": "", "role": "trainer"})
    assert "Bạn không thể tự thay đổi vai trò của mình." in text_of(own)
    db.session.expire_all()
    assert db.session.get(User, user.id).unit.code == "D217-01" and db.session.get(User, admin.id).role == "admin"


def test_list_filters_by_role_and_unit_and_shows_unit_codes(client, db, login_as):
    login_as("admin")
    factories.make_user("official", unit_code="D217-01", username="cb-voi")
    factories.make_user("official", unit_code="D213-01", username="cb-tranphu")
    factories.make_user("trainer", unit_code="217", username="gv-langgiang")
    page = text_of(client.get("/admin/users?role=official&unit=217"))
    assert "cb-voi" in page and "cb-tranphu" not in page and "gv-langgiang" not in page
    assert "D217-01" in page  # the unit's code, as imports name it
    page = text_of(client.get("/admin/users?role=trainer"))
    assert "gv-langgiang" in page and "cb-voi" not in page


def _xlsx(rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Cán bộ")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client, data: bytes, name: str = "ds.xlsx"):
    return client.post("/admin/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_officials_import_accepts_xlsx(client, db, login_as):
    login_as("admin")
    data = _xlsx([["full_name", "username", "unit_code", "position", "email", "phone"],
                  ["Nguyễn Văn Bình", "nvbinh", "D217-01", "Công chức Văn phòng - thống kê", "binh@example.vn", 912345678],
                  [None, None, None, None, None, None],
                  ["Trần Thị Cúc", "ttcuc", "D217-02", None, None, None]])
    preview = _upload(client, data)
    assert preview.status_code == 200 and "Xác nhận nhập" in preview.get_data(as_text=True)
    batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
    done = client.post(f"/admin/import/{batch.id}/confirm")
    assert done.status_code == 200
    binh = db.session.scalar(select(User).where(User.username == "nvbinh"))
    assert binh.unit.code == "D217-01" and binh.phone == "912345678"
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "ttcuc")) == 1


def test_a_damaged_or_oversized_xlsx_gets_a_clear_message_not_an_error(client, db, login_as):
    login_as("admin")
    broken = _upload(client, b"PK\x03\x04 this is not a workbook")
    assert broken.status_code == 200 and "Tệp .xlsx không đọc được" in text_of(broken)
    truncated = _upload(client, _xlsx([["full_name", "username", "unit_code"]])[:300])
    assert truncated.status_code == 200 and "Tệp .xlsx không đọc được" in text_of(truncated)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (65 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1024 * 1024  # a small upload ...
    page = _upload(client, bomb.getvalue())
    assert page.status_code == 200 and "giải nén ra" in text_of(page)  # ... refused while inflating
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_xlsx_import_stops_at_20000_rows(client, db, login_as):
    login_as("admin")
    rows = [["full_name", "username", "unit_code"]] + [[f"Cán bộ {i}", f"cb{i}", "D217-01"] for i in range(20001)]
    page = _upload(client, _xlsx(rows))
    assert page.status_code == 200 and "Quá nhiều dòng: mỗi lần chỉ nhập tối đa 20000 dòng" in text_of(page)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "official")) == 0


def test_deactivation_and_new_password_ask_first(client, db, login_as):
    login_as("admin")
    user = factories.make_user("official", unit_code="D217-01", full_name="Lê Thị Hoa")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{user.id}/deactivate"' in listing
    ask = client.get(f"/admin/users/{user.id}/deactivate")
    assert "Vô hiệu hóa tài khoản" in text_of(ask) and "Lê Thị Hoa sẽ bị đăng xuất" in text_of(ask)
    # A post without the confirmation (a form from elsewhere, an old page) asks instead of acting.
    unconfirmed = client.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    assert unconfirmed.status_code == 200 and "Đồng ý vô hiệu hóa" in unconfirmed.get_data(as_text=True)
    old_hash = user.password_hash
    unconfirmed = client.post(f"/admin/users/{user.id}/reset-password")
    assert "Đồng ý cấp mật khẩu tạm thời mới" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.is_active and user.password_hash == old_hash
    client.post(f"/admin/users/{user.id}/active", data={"active": "0", "confirmed": "1"})
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_active
