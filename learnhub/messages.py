"""Messages written in pure code (parsers) and translated only where a page shows them.

A parser has no request and no locale: it keeps the English text for logs and the command
line, together with its template and values, so a page can show it in the reader's
language. ``N_`` marks a template for Babel's extraction and returns it unchanged. A value
under the key ``what`` is itself a marked template (a noun such as "tolerance") and is
translated too.
"""
from __future__ import annotations


def N_(template: str) -> str:  # noqa: N802 - the name Babel extracts by default
    return template


def format_message(template: str, params: dict) -> str:
    return template % params if params else template
