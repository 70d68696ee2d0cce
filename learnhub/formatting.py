"""Dates, times and numbers the way the reader writes them: one place for pages, PDFs and exports.

Vietnamese: ``02/12/2026``, ``02/12/2026 14:05``, ``28,2`` and ``28,2%`` (decimal comma).
English: ``2 Dec 2026``, ``2 Dec 2026, 14:05``, ``28.2%``: never ``12/2/26``, which a
Vietnamese reader takes for 12 February. Times are shown in Vietnam's zone (the app's
Babel time zone); everything stored is UTC.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date as _babel_date
from flask_babel import format_datetime as _babel_datetime
from flask_babel import format_decimal, get_locale

_DATE = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
_DATETIME = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in _DATE else "vi"


_dates: dict[tuple, str] = {}


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    # Kept per value and language (Babel's formatting costs more than the rest of a lesson
    # page's own work); the time zone is the app's one, Vietnam's.
    key = (value, _language())
    text = _dates.get(key)
    if text is None:
        text = _babel_date(value, _DATE[key[1]])
        if len(_dates) >= 4096:
            _dates.clear()
        _dates[key] = text
    return text


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return _babel_datetime(value, _DATETIME[_language()])


def format_number(value: float | int | None, digits: int = 1) -> str:
    """``28,2`` in Vietnamese, ``28.2`` in English; at most ``digits`` decimals, no trailing zeros."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(value, pattern)


def format_percent(value: float | int | None, digits: int = 1) -> str:
    """A value already in percent: ``28,2%``."""
    return "" if value is None else format_number(value, digits) + "%"
