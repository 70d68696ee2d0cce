"""A short-lived memo, per server process, of the dashboard's heavy aggregates.

The dashboard reads counts stored in the database (``reports.tally``), which every server
sees alike, so this memo is no longer needed for speed; it remains for a programme whose
counts are not stored yet, where the GROUP BY queries over 200,000 officials take seconds.
Each aggregate is kept for ``DASHBOARD_CACHE_SECONDS``
(``LEARNHUB_DASHBOARD_CACHE_SECONDS``; default 0, off, because with several app servers
each would keep its own and two committee members could see different figures for that
long) and the page says when its figures were counted. Only plain values are kept (ids, paths, counts), never database
objects, and the key holds everything the figures depend on: the programme, the unit, and
the viewer's role and unit (what ``auth.scope`` decides visibility from).
"""
from __future__ import annotations

import threading
import time
from datetime import datetime

from flask import current_app

from ..models_base import utcnow

_LOCK = threading.Lock()
_STORE: dict[tuple, tuple[float, datetime, object]] = {}
_PENDING: dict[tuple, threading.Lock] = {}
_MAX_ENTRIES = 512


def remembered(key: tuple, compute) -> tuple[object, datetime]:
    """``compute()`` or its value from less than ``DASHBOARD_CACHE_SECONDS`` ago, with the
    moment it was computed. Threads asking for the same key at once wait for one
    computation rather than all running the same heavy query."""
    seconds = current_app.config.get("DASHBOARD_CACHE_SECONDS", 0)
    if seconds <= 0:
        return compute(), utcnow()
    hit = _fresh(key)
    if hit is not None:
        return hit
    with _LOCK:
        pending = _PENDING.setdefault(key, threading.Lock())
    with pending:
        hit = _fresh(key)
        if hit is not None:
            return hit
        value, at = compute(), utcnow()
        with _LOCK:
            if len(_STORE) >= _MAX_ENTRIES:
                for old in sorted(_STORE, key=lambda k: _STORE[k][0])[:_MAX_ENTRIES // 4]:
                    del _STORE[old]
            _STORE[key] = (time.monotonic() + seconds, at, value)
            _PENDING.pop(key, None)
    return value, at


def _fresh(key: tuple):
    with _LOCK:
        hit = _STORE.get(key)
    return (hit[2], hit[1]) if hit is not None and hit[0] > time.monotonic() else None


def forget() -> None:
    with _LOCK:
        _STORE.clear()
        _PENDING.clear()
