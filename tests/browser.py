"""Helpers for the browser tests: what a person does in the page, not tests themselves."""
from __future__ import annotations

from . import factories


def log_in(page, site, username):
    page.goto(f"{site}/login")
    page.fill("#username", username)
    page.fill("#password", factories.PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def fill(page, pairs):
    """Type or choose each (field name, value) as a person would, whatever the control."""
    for key, value in pairs:
        field = page.locator(f"[name='{key}']").first
        kind = field.evaluate("e => e.tagName + ':' + (e.type || '')")
        if kind in ("INPUT:radio", "INPUT:checkbox"):
            page.locator(f"[name='{key}'][value='{value}']").check()
        elif kind.startswith("SELECT"):
            field.select_option(value)
        else:
            field.fill(value)
