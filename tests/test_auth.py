"""Logging in and out, passwords, deactivation, and who may open which page."""
from sqlalchemy import select

from learnhub.auth.models import User

from . import factories


def test_login_page_is_vietnamese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page and "Tên đăng nhập" in page and "Mật khẩu" in page


def test_official_logs_in_and_out(client, units):
    user = factories.make_user("official")
    response = client.post("/login", data={"username": user.username.upper(), "password": factories.PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_vietnamese_message(client, units):
    user = factories.make_user("official")
    response = client.post("/login", data={"username": user.username, "password": "sai"})
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_empty_fields_get_messages_next_to_them(client):
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert 'id="username-error"' in page and 'id="password-error"' in page


def test_deactivated_account_cannot_log_in(client, units):
    user = factories.make_user("official", is_active_account=False)
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_deactivation_ends_a_session_that_is_already_open(client, db, login_as):
    user = login_as("official")
    assert client.get("/").status_code == 200
    db.session.get(User, user.id).is_active_account = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_change_password(client, db, login_as):
    user = login_as("official")
    bad = client.post("/account/password", data={"current": "sai", "new": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"})
    assert "Mật khẩu hiện tại không đúng" in bad.get_data(as_text=True)
    mismatch = client.post("/account/password", data={"current": factories.PASSWORD, "new": "mat-khau-moi-1", "confirm": "khac-hẳn-123"})
    assert "không giống nhau" in mismatch.get_data(as_text=True)
    ok = client.post("/account/password", data={"current": factories.PASSWORD, "new": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"})
    assert ok.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"username": user.username, "password": "mat-khau-moi-1"}).status_code == 302


def test_temporary_password_must_be_changed_first(client, db, units):
    user = factories.make_user("official")
    user.set_temporary_password("tam-thoi-abc123")
    db.session.commit()
    response = client.post("/login", data={"username": user.username, "password": "tam-thoi-abc123"})
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/").headers["Location"].startswith("/account/password?next=/")
    client.post("/account/password", data={"current": "tam-thoi-abc123", "new": "cua-toi-12345", "confirm": "cua-toi-12345"})
    assert client.get("/").status_code == 200
    assert db.session.get(User, user.id).password_hash.startswith("$argon2id$")


def test_login_is_rate_limited(app, client, units):
    user = factories.make_user("official")
    from learnhub.extensions import limiter
    default = app.config["RATELIMIT_LOGIN"]
    app.config["RATELIMIT_LOGIN"] = "10 per minute"
    try:
        codes = [client.post("/login", data={"username": user.username, "password": "sai"}).status_code for _ in range(12)]
        page = client.post("/login", data={"username": user.username, "password": "sai"}).get_data(as_text=True)
    finally:
        app.config["RATELIMIT_LOGIN"] = default
        limiter.reset()
    assert "Hãy chờ một phút" in page
    assert 429 in codes
    assert codes[0] == 200


def test_open_redirect_after_login_is_refused(client, units):
    user = factories.make_user("official")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(f"/login?next={target}", data={"username": user.username, "password": factories.PASSWORD})
        assert response.headers["Location"] == "/"
        client.post("/logout")


def test_pages_need_login(client):
    for url in ("/", "/my", "/courses/x", "/glossary", "/reports/", "/admin/users"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_officials_cannot_open_reports_or_admin(client, login_as):
    login_as("official")
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/officials").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/import").status_code == 403


def test_committee_cannot_administer_accounts(client, login_as):
    login_as("committee")
    assert client.get("/admin/users").status_code == 403


def test_admin_creates_and_deactivates_an_account(client, db, login_as):
    admin = login_as("admin")
    response = client.post("/admin/users/new", data={
        "username": "nguyenvana", "full_name": "Nguyễn Văn A", "role": "official", "unit_code": "D217-02",
        "position": "Công chức Tư pháp - hộ tịch", "email": "", "phone": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Mật khẩu tạm thời" in page
    user = db.session.scalar(select(User).where(User.username == "nguyenvana"))
    assert user.unit.code == "D217-02" and user.must_change_password
    duplicate = client.post("/admin/users/new", data={
        "username": "nguyenvana", "full_name": "B", "role": "official", "unit_code": "D217-02", "password": ""})
    assert "đã có người dùng" in duplicate.get_data(as_text=True)
    client.post(f"/admin/users/{user.id}/active", data={"active": "0", "confirmed": "1"})
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active is False
    assert db.session.get(User, user.id).deactivated_by_id == admin.id
    own = client.post(f"/admin/users/{admin.id}/active", data={"active": "0", "confirmed": "1"}, follow_redirects=True)
    assert "Bạn không thể khóa tài khoản của chính mình" in own.get_data(as_text=True)


def test_official_without_unit_is_refused(client, db, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data={
        "username": "khongdonvi", "full_name": "Không Đơn Vị", "role": "official", "unit_code": "", "password": ""})
    assert "phải thuộc một đơn vị" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "khongdonvi")) is None


def test_logging_out_on_a_temporary_password_does_not_loop(client, db, units):
    user = factories.make_user("official")
    user.set_temporary_password("tam-thoi-abc123")
    db.session.commit()
    client.post("/login", data={"username": user.username, "password": "tam-thoi-abc123"})
    client.post("/logout")
    assert client.get("/login").status_code == 200
