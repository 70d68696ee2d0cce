"""LearnHub: ISO 9001 training for commune officials."""
from __future__ import annotations

import os
import time

from flask import Flask, jsonify
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.routing import IntegerConverter
from sqlalchemy import event, literal_column, select
from sqlalchemy.engine import Engine

from .config import Config, instance_secret_key, normalise_database_url
from .extensions import compress, csrf, db, limiter, login_manager, migrate


def create_app(config: type | dict | None = None) -> Flask:
    settings = config if isinstance(config, dict) else {}
    app = Flask(__name__, instance_relative_config=False,
                instance_path=settings.get("INSTANCE_PATH") or Config.INSTANCE_PATH)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)

    os.makedirs(app.instance_path, exist_ok=True)
    _check_production(app)
    if app.config.get("BASE_URL", "").lower().startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "learnhub.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A server database may drop idle connections (restart, failover): test each one
        # before use. An embedded SQLite file cannot, so it is spared a query per request.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}

    if app.config.get("PROXY_FIX"):
        # Behind a load balancer or HTTPS proxy: external URLs (badge ids, verify links in
        # PDFs and QR codes) use the scheme and host the client asked for.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    # An id in a URL beyond what the database can hold is simply not found (404), not a
    # database error: /quiz/attempts/99999999999999999999.
    app.url_map.converters["int"] = BoundedIntConverter
    app.session_interface = SessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    # Flask-Limiter checks every request in a before_request hook, though only the routes
    # decorated with their limit (log-in, check-in, certificate check) have one, and those
    # decorators run the check themselves: the hook only cost every other page its time.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    _init_login(app)
    from .reads import init_reads
    init_reads(app)
    from .i18n import init_i18n
    init_i18n(app)
    from .fragments import init_fragments
    init_fragments(app)
    from .assets import init_assets
    init_assets(app)
    # gzip for pages, stylesheets, scripts and JSON when the browser accepts it (slow links).
    compress.init_app(app)

    # The receivers of learnhub.signals connect when their modules are imported.
    from .progress import step  # noqa: F401
    from .certificates import services  # noqa: F401

    from .auth.views import bp as auth_bp
    from .catalog.views import bp as catalog_bp
    from .progress.views import bp as progress_bp
    from .reports.views import bp as reports_bp
    from .admin.views import bp as admin_bp
    from .quizzes.views import bp as quizzes_bp
    from .attendance.views import bp as attendance_bp
    from .programmes.views import bp as programmes_bp
    from .programmes.unit_views import bp as units_bp
    from .certificates.views import bp as certificates_bp
    from .materials.views import bp as materials_bp
    for bp in (auth_bp, catalog_bp, progress_bp, reports_bp, admin_bp, quizzes_bp, attendance_bp,
               programmes_bp, units_bp, certificates_bp, materials_bp):
        app.register_blueprint(bp)

    from .urls import external_url
    app.jinja_env.globals["external_url"] = external_url

    from .cli import learnhub_cli
    app.cli.add_command(learnhub_cli)

    from . import reads
    ping = select(literal_column("1"))

    @app.get("/healthz")
    def healthz():
        try:
            reads.first(ping, {})
        except Exception:  # any database failure means "not ready"
            reads.release()
            return jsonify(status="unavailable"), 503
        return jsonify(status="ok")

    from .errors import register_error_handlers
    register_error_handlers(app)

    defaults = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    ]
    if app.config["SESSION_COOKIE_SECURE"]:
        defaults.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def security_headers(response):
        headers = response.headers
        if _private(response):
            # Temporary passwords, people's records, certificates and exports must not stay
            # in a shared office computer's cache or a proxy's.
            headers["Cache-Control"] = "no-store"
        # Each unless the view set its own (one pass over the headers, not one per name).
        present = {name.lower() for name, _ in headers.items()}
        for name, value in defaults:
            if name.lower() not in present:
                headers.add(name, value)
        return response

    return app


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the cookie's serializer built once per set of keys
    rather than twice per request (it depends on nothing else), and each cookie's signature
    checked once: a phone sends the same cookie with every page, and checking it (HMAC,
    base64, zlib) cost more than a lesson's query. What is kept is the cookie's contents as
    JSON text, decoded afresh for every request (so no request can change another's), with
    the time it was signed, so an expired cookie is still refused."""

    _MAX_OPENED = 8192

    def __init__(self):
        self._serializers: dict[tuple, object] = {}
        self._opened: dict[str, tuple] = {}  # cookie -> (serializer, JSON text, signed at)

    def open_session(self, app: Flask, request):
        serializer = self.get_signing_serializer(app)
        cookie = request.cookies.get(self.get_cookie_name(app)) if serializer is not None else None
        if not cookie:
            return super().open_session(app, request)
        max_age = app.permanent_session_lifetime.total_seconds()
        opened = self._opened.get(cookie)
        if opened is not None and opened[0] is serializer and 0 <= time.time() - opened[2] <= max_age:
            return self.session_class(self.serializer.loads(opened[1]))
        try:
            data, signed_at = serializer.loads(cookie, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if len(self._opened) >= self._MAX_OPENED:
            self._opened.clear()
        self._opened[cookie] = (serializer, self.serializer.dumps(data), signed_at.timestamp())
        return self.session_class(data)

    def save_session(self, app: Flask, session, response) -> None:
        # Most requests change nothing in the session: only say the page varies by cookie.
        if not session.modified and not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                self._serializers = {keys: serializer}  # one app, one set of keys at a time
        return serializer


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)  # ids are INTEGER columns
        super().__init__(map, *args, **kwargs)


_PRIVATE_TYPES = ("application/pdf", "text/csv", "application/zip",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_PRIVATE_BLUEPRINTS = ("admin", "units", "reports")


def _private(response) -> bool:
    from flask import request
    return (response.mimetype in _PRIVATE_TYPES
            or (request.blueprint in _PRIVATE_BLUEPRINTS)
            or (request.endpoint or "").startswith("auth."))


class ConfigurationError(RuntimeError):
    pass


def _check_production(app: Flask) -> None:
    """Production refuses to start on the conveniences of the demo."""
    if not app.config.get("PRODUCTION"):
        return
    missing = [name for name, key in (("SECRET_KEY", "SECRET_KEY"), ("LEARNHUB_BASE_URL", "BASE_URL"))
               if not app.config.get(key)]
    if missing:
        raise ConfigurationError(f"Production mode needs {' and '.join(missing)} set in the environment.")
    if not app.config["BASE_URL"].lower().startswith(("https://", "http://")):
        raise ConfigurationError("LEARNHUB_BASE_URL must be an address such as https://hoc.example.gov.vn")
    if app.config.get("DEMO_MODE"):
        raise ConfigurationError("LEARNHUB_DEMO must not be set in production: it seeds known passwords.")


def _init_login(app: Flask) -> None:
    from .auth.current import load_session_user

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # No "session protection": it hashes the address and browser of every request to mark a
    # session "not fresh" when they change (a phone moving between networks does), and no
    # page asks for a fresh log-in; what ends a session is its token (see auth/current.py).
    login_manager.session_protection = None

    from flask_babel import lazy_gettext as _l
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # One indexed query per request; the full account loads only where a view needs it.
    login_manager.user_loader(load_session_user)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL lets readers and one writer work at once; busy_timeout waits for
    # the lock instead of failing a concurrent request straight away.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint_inside_transaction(conn, name):
    # pysqlite opens a transaction only before INSERT/UPDATE/DELETE. A SAVEPOINT
    # issued before any of those would start a transaction of its own, and its
    # RELEASE would commit: begin the real transaction first so savepoints nest.
    if conn.dialect.name == "sqlite":
        dbapi_connection = conn.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")
