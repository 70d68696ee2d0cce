"""Page fragments rendered once per process and reused.

A fragment's template sees only the values it is given (plus gettext and url_for), and
its cache key holds every one of those values with the language and the script root.
Templates and translations ship with the code, so a cached fragment can never differ
from a fresh rendering: every app server may keep its own copy without coordination.

The few per-request values (the CSRF token, the current path, the username in the site
header) are written as slots and filled in on the way out.
"""
from __future__ import annotations

import secrets
from urllib.parse import quote

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

# Random per process, so no content (a username, a lesson) can ever contain a slot.
CSRF_SLOT = "csrf" + secrets.token_hex(12)
PATH_SLOT = "path" + secrets.token_hex(12)
USER_SLOT = "user" + secrets.token_hex(12)
_MAX_ENTRIES = 512  # a lesson body is ~10-20 KB: a few MB per worker at most

_cache: dict[tuple, str] = {}


def fragment(template_name: str, **values) -> Markup:
    locale = str(get_locale())
    key = (template_name, locale, request.script_root, *sorted(values.items()))
    html = _cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template(template_name)
        html = template.render(values, locale=locale, csrf_slot=CSRF_SLOT, path_slot=PATH_SLOT)
        if len(_cache) >= _MAX_ENTRIES:
            _cache.clear()
        _cache[key] = html
    if CSRF_SLOT in html:
        html = html.replace(CSRF_SLOT, generate_csrf())
    if PATH_SLOT in html:
        html = html.replace(PATH_SLOT, quote(request.full_path, safe=""))
    return Markup(html)


def init_fragments(app: Flask) -> None:
    from flask_login import current_user

    def site_header() -> Markup:
        user = current_user
        if user.is_authenticated:
            # One header per role and language, the username written in on the way out: keyed
            # by the username, a province of officials filled the cache and emptied it again.
            html = fragment("_site_header.html", username=USER_SLOT, role=user.role)
            return Markup(html.replace(USER_SLOT, str(escape(user.username))))
        return fragment("_site_header.html", username=None, role=None)

    app.jinja_env.globals["site_header"] = site_header
    app.jinja_env.globals["fragment"] = fragment
