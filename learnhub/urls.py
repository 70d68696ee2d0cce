"""Addresses that leave the site: badge ids, verify links in PDFs and QR codes, check-in links.

With ``LEARNHUB_BASE_URL`` set they are built on it, whatever ``Host`` a request
claims; a forged Host header cannot put another site's address into a badge.
Without it (development, the demo) they follow the request.
"""
from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
