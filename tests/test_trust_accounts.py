"""Accounts an attacker cannot keep or guess: revocable sessions and remember cookies,
a per-account throttle every server shares, equal timing, production settings.
Each test reproduces the attack first, then checks the answer."""
from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import argon2
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from learnhub import ConfigurationError, create_app
from learnhub.audit.models import AuditEntry
from learnhub.auth.models import LoginThrottle, User
from learnhub.models_base import utcnow

from . import factories


def _log_in(client, user, password=factories.PASSWORD, remember=False):
    data = {"username": user.username, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def _remembered_only(app, client):
    """A second browser that holds nothing but the first one's remember cookie."""
    cookie = client.get_cookie("remember_token")
    assert cookie is not None, "no remember cookie was set"
    other = app.test_client()
    other.set_cookie("remember_token", cookie.value)
    return other


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def test_remember_cookie_flags_and_lifetime(client, units):
    user = factories.make_user("official")
    response = _log_in(client, user, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30, minutes=1)


def test_remember_cookie_logs_in_until_the_password_changes(app, client, db, units):
    user = factories.make_user("official")
    _log_in(client, user, remember=True)
    thief = _remembered_only(app, client)
    assert _logged_in(thief)  # the cookie works on its own (a copied cookie, a stolen phone)

    response = client.post("/account/password", data={"current": factories.PASSWORD, "new": "mat-khau-moi-2026",
                                                       "confirm": "mat-khau-moi-2026"}, follow_redirects=True)
    assert "đã được đăng xuất" in response.get_data(as_text=True)
    assert _logged_in(client)  # the device that changed it stays in
    assert not _logged_in(thief)
    again = app.test_client()
    again.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert _logged_in(again)  # the renewed cookie of the device that stayed in works


@pytest.mark.parametrize("how", ["admin_reset", "deactivation", "log_out_everywhere"])
def test_every_way_of_ending_sessions_ends_the_remember_cookie_too(app, client, db, units, how):
    user = factories.make_user("official")
    _log_in(client, user, remember=True)
    thief = _remembered_only(app, client)
    session_thief = app.test_client()
    _log_in(session_thief, user)
    assert _logged_in(thief) and _logged_in(session_thief)

    if how == "log_out_everywhere":
        client.post("/account/sessions/end")
        assert _logged_in(client)
    else:
        admin = factories.make_user("admin")
        admin_client = app.test_client()
        _log_in(admin_client, admin)
        if how == "admin_reset":
            assert admin_client.post(f"/admin/users/{user.id}/reset-password", data={"confirmed": "1"}).status_code == 200
        else:
            admin_client.post(f"/admin/users/{user.id}/active", data={"active": "0", "confirmed": "1"})
        assert not _logged_in(client)
    assert not _logged_in(thief)
    assert not _logged_in(session_thief)
    action = {"admin_reset": "account.password_reset", "deactivation": "account.deactivate",
              "log_out_everywhere": "account.sessions_ended"}[how]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == action,
                                                      AuditEntry.subject_id == user.id)) is not None


def test_a_cookie_of_the_old_form_user_id_only_opens_nothing(app, client, units):
    user = factories.make_user("official")
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)  # what sessions carried before tokens
        session["_fresh"] = True
    assert not _logged_in(client)


def test_ten_failures_lock_the_account_on_every_server(app, client, db, units):
    user = factories.make_user("official")
    # A second app on the same database stands for another worker or server.
    other_app = create_app({**app.config, "INSTANCE_PATH": app.instance_path})
    clients = [client, other_app.test_client()]
    for i in range(10):
        page = _log_in(clients[i % 2], user, password=f"doan-{i}").get_data(as_text=True)
        assert "Sai tên đăng nhập hoặc mật khẩu" in page
    for attacker in clients:
        page = _log_in(attacker, user).get_data(as_text=True)  # even the right password
        assert "tạm ngừng đăng nhập" in page and "phút" in page
        assert not _logged_in(attacker)


def test_the_lock_grows_and_ends(app, client, db, units):
    user = factories.make_user("official")
    for i in range(11):
        _log_in(client, user, password=f"sai-{i}")
    row = db.session.get(LoginThrottle, user.username)
    first = row.locked_until - utcnow()
    assert timedelta(seconds=30) < first <= timedelta(minutes=1)
    # The lock runs out; one more wrong password locks it for twice as long.
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _log_in(client, user, password="van-sai")
    db.session.expire_all()
    second = db.session.get(LoginThrottle, user.username).locked_until - utcnow()
    assert second > timedelta(minutes=1, seconds=30)
    # After the lock, the right password opens the account and clears the count.
    row = db.session.get(LoginThrottle, user.username)
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _log_in(client, user).status_code == 302
    db.session.expire_all()
    assert db.session.get(LoginThrottle, user.username) is None


def test_an_unknown_name_is_locked_the_same_way(client, db, units):
    for i in range(10):
        _log_in(client, User(username="khong-ton-tai"), password=f"x-{i}")
    page = _log_in(client, User(username="khong-ton-tai")).get_data(as_text=True)
    assert "tạm ngừng đăng nhập" in page  # no difference that would reveal the name is free


def test_unknown_names_and_temporary_passwords_cost_one_slow_hash_like_a_wrong_password(client, db, units, monkeypatch):
    calls = []
    real = argon2.PasswordHasher.verify

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    user = factories.make_user("official")
    temporary = factories.make_user("official")
    temporary.set_temporary_password("tam-thoi-1234")
    db.session.commit()
    for name, password in ((user.username, "sai"), ("khong-co-ai", "sai"), (temporary.username, "sai"),
                           (user.username, factories.PASSWORD)):
        calls.clear()
        _log_in(client, User(username=name), password=password)
        assert len(calls) == 1, name
        client.post("/logout")


def test_passwords_are_hashed_with_argon2id_at_owasp_minimum(client, db, units):
    user = factories.make_user("official")
    _log_in(client, user)
    client.post("/account/password", data={"current": factories.PASSWORD, "new": "mat-khau-moi-9",
                                           "confirm": "mat-khau-moi-9"})
    stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "mat-khau-moi-9" not in stored


def test_an_old_scrypt_hash_is_upgraded_at_the_next_login_without_ending_sessions(app, client, db, units):
    user = factories.make_user("official")
    user.password_hash = generate_password_hash(factories.PASSWORD, method="scrypt")
    db.session.commit()
    token = user.session_token
    # Wrong password: nothing is re-hashed.
    _log_in(client, user, password="sai-mat-khau")
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash.startswith("scrypt:")
    # A device logged in with the old hash, then the same account logs in elsewhere.
    assert _log_in(client, user).status_code == 302
    db.session.expire_all()
    upgraded = db.session.get(User, user.id)
    assert upgraded.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert upgraded.session_token == token  # not a password change: no session ends
    assert _logged_in(client)
    other = app.test_client()
    assert _log_in(other, user).status_code == 302 and _logged_in(other)
    assert _logged_in(client)


def test_temporary_passwords_expire_after_seven_days(client, db, units):
    user = factories.make_user("official")
    user.set_temporary_password("tam-thoi-1234")
    user.temporary_password_at = utcnow() - timedelta(days=8)
    db.session.commit()
    page = _log_in(client, user, password="tam-thoi-1234").get_data(as_text=True)
    assert "đã hết hạn" in page and not _logged_in(client)
    user.temporary_password_at = utcnow() - timedelta(days=6)
    db.session.commit()
    assert _log_in(client, user, password="tam-thoi-1234").status_code == 302


def test_production_refuses_to_start_without_its_settings(app):
    base = {**app.config, "PRODUCTION": True, "INSTANCE_PATH": app.instance_path, "DEMO_MODE": False}
    with pytest.raises(ConfigurationError, match="LEARNHUB_BASE_URL"):
        create_app({**base, "BASE_URL": ""})
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({**base, "BASE_URL": "https://hoc.example.vn", "SECRET_KEY": None})
    with pytest.raises(ConfigurationError, match="LEARNHUB_DEMO"):
        create_app({**base, "BASE_URL": "https://hoc.example.vn", "DEMO_MODE": True})


def test_https_base_url_makes_cookies_secure_and_sends_hsts(app, units):
    secure = create_app({**app.config, "INSTANCE_PATH": app.instance_path, "BASE_URL": "https://hoc.example.vn",
                         "SESSION_COOKIE_SECURE": False})
    client = secure.test_client()
    user = factories.make_user("official")
    response = _log_in(client, user, remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    assert all("Secure" in c for c in cookies if c.startswith(("session=", "remember_token=")))
    assert "max-age=31536000" in client.get("/login").headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers


def test_private_pages_and_files_are_not_cached(client, db, login_as):
    admin = login_as("admin")
    official = factories.make_user("official")
    assert client.get("/admin/users").headers["Cache-Control"] == "no-store"
    assert client.post(f"/admin/users/{official.id}/reset-password", data={"confirmed": "1"}).headers["Cache-Control"] == "no-store"
    assert client.get("/reports/completion.csv").headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert admin is not None


def test_account_creation_is_in_the_audit_log(client, db, login_as):
    admin = login_as("admin")
    client.post("/admin/users/new", data={"username": "cb-moi", "full_name": "Cán bộ Mới", "role": "official",
                                          "unit_code": "D217-01"})
    created = db.session.scalar(select(User).where(User.username == "cb-moi"))
    assert created is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.create"))
    assert entry.actor_id == admin.id and entry.subject_id == created.id
