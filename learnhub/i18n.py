"""Vietnamese first, English second; dates in the learner's language and Vietnam's time zone."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from babel import Locale

from flask import Flask, current_app, g, has_request_context, make_response, redirect, request, url_for
from flask_babel import format_date as _babel_date
from flask_babel import get_locale, refresh

from .extensions import babel
from .formatting import format_date, format_datetime, format_number, format_percent

LANG_COOKIE = "lang"


@functools.lru_cache(maxsize=16)
def _parsed(code: str) -> Locale:
    # Flask-Babel parses the selector's answer on every request; a Locale is immutable data.
    return Locale.parse(code)


def select_locale() -> Locale:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command run from the shell speaks the default language
        return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])
    wanted = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if wanted in languages:
        return _parsed(wanted)
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: never send someone to another host after a redirect."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.before_request
    def _fresh_request_state():
        # An app context may outlive one request (it does under the test client);
        # the language and the logged-in user are decided afresh for each request.
        refresh()
        g.pop("_login_user", None)

    @app.get("/lang/<code>")
    def set_language(code: str):
        target = safe_next(request.args.get("next"), url_for("certificates.home"))
        response = make_response(redirect(target))
        if code in app.config["LANGUAGES"]:
            response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                                httponly=True, secure=app.config["SESSION_COOKIE_SECURE"])
        return response

    # Every date, time and number on a page goes through learnhub.formatting.
    @app.template_filter("date")
    def _date(value, fmt: str | None = None):
        if value is None:
            return ""
        # An explicit pattern is for documents in one fixed language (the bilingual certificate).
        return _babel_date(value, fmt) if fmt else format_date(value)

    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_percent, "percent")

    @app.context_processor
    def _locale_context():
        return {"current_locale": str(get_locale())}
