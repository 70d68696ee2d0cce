"""Static files under content-hashed names, cached by browsers for a year.

At start-up every file in the static folder is hashed (SHA-256 of its bytes); from then
on ``url_for('static', filename='app.css')`` gives ``/static/app.<hash>.css``, served with
``Cache-Control: public, max-age=31536000, immutable``: a page never waits on a round trip
to revalidate its stylesheet. A changed file has a new hash, so a new URL, and browsers
fetch it once. The names come from the files alone, so every app server running the same
code gives the same names, with nothing shared between them.

The plain names (``/static/app.css``) keep working, revalidated as before, and so does a
hashed name from an earlier release (a page cached before a deploy): it gets today's file,
without the long cache, so no browser keeps the wrong bytes under a name.
"""
from __future__ import annotations

import hashlib
import os
import re

from flask import Flask

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{12})(?P<ext>\.[^./]+)?$")


def hashed_names(folder: str) -> dict[str, str]:
    """{"app.css": "app.<12 hex digits of its SHA-256>.css", ...} for every file under ``folder``."""
    names = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()[:12]
            stem, ext = os.path.splitext(relative)
            names[relative] = f"{stem}.{digest}{ext}"
    return names


def init_assets(app: Flask) -> None:
    names = hashed_names(app.static_folder) if app.static_folder and os.path.isdir(app.static_folder) else {}
    originals = {hashed: name for name, hashed in names.items()}
    serve_plain = app.view_functions["static"]

    @app.url_defaults
    def _hashed_static_url(endpoint: str, values: dict) -> None:
        if endpoint == "static":
            values["filename"] = names.get(values.get("filename"), values.get("filename"))

    def static(filename: str):
        original = originals.get(filename)
        if original is None:
            match = _HASHED.match(filename)
            if match and f"{match['stem']}{match['ext'] or ''}" in names:
                filename = f"{match['stem']}{match['ext'] or ''}"  # an earlier release's name
            return _whole(serve_plain(filename=filename))
        response = _whole(app.send_static_file(original))
        response.headers["Cache-Control"] = IMMUTABLE
        return response

    def _whole(response):
        # The files are a few KB: read whole, Flask-Compress gzips them as it does pages
        # (it leaves streamed responses to other encodings than gzip).
        if response.status_code == 200 and response.direct_passthrough:
            response.direct_passthrough = False
            response.set_data(response.get_data())
        return response

    app.view_functions["static"] = static
