"""Configuration from the environment, with defaults that are safe to run as-is."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Officials, sessions and deadlines are all in Vietnam: dates typed into forms and
# shown on pages and PDFs are in this zone; everything stored is UTC.
VIETNAM_TIMEZONE = "Asia/Ho_Chi_Minh"
VIETNAM_TZ = ZoneInfo(VIETNAM_TIMEZONE)
DEFAULT_DEMO_PASSWORD = "hoc-iso-9001"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret_key(instance_path: str) -> str:
    """Return the key kept in instance/secret_key, creating it once.

    Several app servers must share one key: set SECRET_KEY in their
    environment. The file is the convenience for a single machine.
    """
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under a temporary name, then linked into place: several
        # workers starting at once all end up reading the same complete key.
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    # Hosting panels hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Every setting read from the environment is read here, once, at import."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    INSTANCE_PATH = os.environ.get("LEARNHUB_INSTANCE_PATH") or None
    # None: create_app puts an SQLite file in the instance folder (it needs the instance path).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # create_app adds pool_pre_ping for server databases
    COURSES_DIR = os.environ.get("LEARNHUB_COURSES_DIR", str(PROJECT_ROOT / "courses"))
    QUIZZES_DIR = os.environ.get("LEARNHUB_QUIZZES_DIR", str(PROJECT_ROOT / "quizzes"))
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = VIETNAM_TIMEZONE
    LANGUAGES = ("vi", "en")
    # The public address (https://hoc.example.gov.vn): every link that leaves the site is
    # built on it. Required in production, where cookies then follow its scheme.
    BASE_URL = os.environ.get("LEARNHUB_BASE_URL", "").strip()
    PRODUCTION = _bool("LEARNHUB_PRODUCTION", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # "Keep me logged in": same flags as the session, and at most 30 days.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    TEMPORARY_PASSWORD_DAYS = 7
    LOGIN_LOCK_FAILURES = 10  # failed logins for one account within the window ...
    LOGIN_LOCK_WINDOW = timedelta(minutes=15)
    LOGIN_LOCK_BASE = timedelta(minutes=1)  # ... lock it for this long, doubling with each further failure
    WTF_CSRF_TIME_LIMIT = None  # a form left open on a slow phone must still post
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Per address. A conference hall's phones share one address (300 first log-ins in a few
    # minutes), so this only stops floods; guessing one account's password is stopped by
    # the per-account throttle in the database (LOGIN_LOCK_*).
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "120 per minute;2000 per hour")
    # Per account: at a conference every official checks in from the hall's one address.
    RATELIMIT_CHECKIN = os.environ.get("RATELIMIT_CHECKIN", "20 per minute")
    # Per address: anyone may check a certificate, no one should walk through the codes.
    RATELIMIT_VERIFY = os.environ.get("RATELIMIT_VERIFY", "60 per minute")
    RATELIMIT_HEADERS_ENABLED = True
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    # Flask-Compress: gzip (every browser has it) for text, when the client accepts it.
    COMPRESS_ALGORITHM = "gzip"
    COMPRESS_LEVEL = 6
    COMPRESS_MIN_SIZE = 500
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/plain", "text/csv", "text/javascript",
                          "application/javascript", "application/json", "application/ld+json", "image/svg+xml"]
    DEMO_MODE = _bool("LEARNHUB_DEMO", False)
    DEMO_PASSWORD = os.environ.get("LEARNHUB_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    PROXY_FIX = _bool("LEARNHUB_PROXY_FIX", False)
    ISSUER_NAME = os.environ.get("LEARNHUB_ISSUER_NAME", "Ban Chỉ đạo ISO tỉnh Bắc Giang")
    ISSUER_URL = os.environ.get("LEARNHUB_ISSUER_URL", "")
    ISSUER_EMAIL = os.environ.get("LEARNHUB_ISSUER_EMAIL", "")
    # How long the committee dashboard may reuse its aggregates (reports/memo.py); 0: never.
    # Off by default: a per-process memo can show two servers' committees different figures
    # for up to that many seconds. One small server may turn it on (the page says when counted).
    DASHBOARD_CACHE_SECONDS = int(os.environ.get("LEARNHUB_DASHBOARD_CACHE_SECONDS", "0") or 0)
    # Password-reset links by email: only when a server and a sender are set.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "").strip()
    MAIL_PORT = int(os.environ.get("MAIL_PORT") or 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)  # STARTTLS, usually port 587
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)  # TLS from the start, usually port 465
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "").strip()
    PASSWORD_RESET_SECONDS = 3600
    TESTING = False


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_LOGIN = "10000 per minute"  # tests log in often; one test lowers it
    RATELIMIT_CHECKIN = "10000 per minute"
    RATELIMIT_VERIFY = "10000 per minute"
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = None  # tests name their own database
    SERVER_NAME = None
    DASHBOARD_CACHE_SECONDS = 0  # every request counts afresh; one test turns the memo on
    MAIL_SERVER = ""  # tests that send mail start their own capture server
