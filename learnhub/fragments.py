"""Page fragments rendered once per process and reused.

A fragment's template sees only the values it is given (plus gettext and url_for), and
its cache key holds every one of those values with the language and the script root.
Templates and translations ship with the code, so a cached fragment can never differ
from a fresh rendering: every app server may keep its own copy without coordination.

The few per-request values (the CSRF token, the current path, the username in the site
header) are written as slots and filled in on the way out.

``page`` goes one step further for the pages every learner opens most (a lesson): the whole
page, from ``<!doctype html>`` on, is such a fragment, keyed by the values it shows and the
account's role; the account's name and any other per-learner text are slots, written escaped.
A request that carries a flashed message renders afresh (the messages are not cached).
"""
from __future__ import annotations

import secrets
from collections import OrderedDict
from urllib.parse import quote

from flask import Flask, Response, current_app, g, get_flashed_messages, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

# Random per process, so no content (a username, a lesson) can ever contain a slot.
CSRF_SLOT = "csrf" + secrets.token_hex(12)
PATH_SLOT = "path" + secrets.token_hex(12)
_MAX_ENTRIES = 512  # a lesson body is ~10-20 KB: a few MB per worker at most

# Least recently used first: the learner's own pages (their course cards, what is left before
# their certificate) come and go by the thousand, and must not push out the lessons every
# official reads. OrderedDict's move_to_end and popitem are atomic under the GIL.
_cache: OrderedDict[tuple, str] = OrderedDict()


_slots: dict[str, str] = {}


def slot(name: str) -> str:
    """The placeholder written where a per-request value ``name`` goes (random per process)."""
    token = _slots.get(name)
    if token is None:
        token = _slots.setdefault(name, f"slot{secrets.token_hex(12)}")
    return token


def _render(template_name: str, values: dict, extra: dict | None = None) -> str:
    """The template's HTML for these values, from the cache; slots left unfilled."""
    locale = str(get_locale())
    key = (template_name, locale, request.script_root, *sorted(values.items()))
    html = _cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template(template_name)
        html = template.render(values, **(extra or {}), locale=locale, current_locale=locale,
                               csrf_slot=CSRF_SLOT, path_slot=PATH_SLOT)
        while len(_cache) >= _MAX_ENTRIES:
            try:
                _cache.popitem(last=False)
            except KeyError:  # emptied by another thread meanwhile
                break
        _cache[key] = html
    else:
        try:
            _cache.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile: it is rendered again next time
            pass
    return html


_signed_tokens: dict[tuple, str] = {}


def csrf_token() -> str:
    """Flask-WTF's token for this session's form posts, signed once per session token and key.

    With no time limit (WTF_CSRF_TIME_LIMIT = None) a signed token stays valid as long as its
    session, so the signature made for the session's first page serves its later ones; it is
    the same check (signature and session token) on every server."""
    if "csrf_token" in g:
        return g.csrf_token
    raw = session.get("csrf_token")
    config = current_app.config
    if raw is None or config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()
    key = (config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
    token = _signed_tokens.get(key)
    if token is None:
        token = generate_csrf()
        if len(_signed_tokens) >= 8192:
            _signed_tokens.clear()
        _signed_tokens[key] = token
    else:
        g.csrf_token = token
    return token


def _fill(html: str) -> str:
    if CSRF_SLOT in html:
        html = html.replace(CSRF_SLOT, csrf_token())
    if PATH_SLOT in html:
        html = html.replace(PATH_SLOT, quote(request.full_path, safe=""))
    return html


def fragment(template_name: str, **values) -> Markup:
    return Markup(_fill(_render(template_name, values)))


def page(template_name: str, role: str, slots: dict[str, str], **values) -> Response:
    """A whole page for the logged-in account: ``template_name`` extends base.html and uses
    only ``values``, ``role`` and ``slot_<name>`` for each of ``slots`` (per-learner text,
    written escaped); ``username`` is always a slot."""
    slots = {"username": current_user_name(), **slots}
    values = {**values, "role": role, **{f"slot_{name}": slot(name) for name in slots}}
    flashes = get_flashed_messages(with_categories=True) if "_flashes" in session else ()
    header = Markup(_render("_site_header.html", {"username": slot("username"), "role": role}))
    if flashes:  # shown once: rendered afresh, never cached
        locale = str(get_locale())
        html = current_app.jinja_env.get_template(template_name).render(
            values, header=header, flashes=flashes, locale=locale, current_locale=locale,
            csrf_slot=CSRF_SLOT, path_slot=PATH_SLOT)
    else:
        html = _render(template_name, values, {"header": header, "flashes": ()})
    for name, value in slots.items():
        html = html.replace(slot(name), str(escape(value)))
    return Response(_fill(html), mimetype="text/html")


def current_user_name() -> str:
    from flask_login import current_user
    return current_user.username


def init_fragments(app: Flask) -> None:
    from flask_login import current_user

    def site_header() -> Markup:
        user = current_user
        if user.is_authenticated:
            # One header per role and language, the username written in on the way out: keyed
            # by the username, a province of officials pushed every other fragment out.
            html = fragment("_site_header.html", username=slot("username"), role=user.role)
            return Markup(html.replace(slot("username"), str(escape(user.username))))
        return fragment("_site_header.html", username=None, role=None)

    app.jinja_env.globals["site_header"] = site_header
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["fragment"] = fragment
