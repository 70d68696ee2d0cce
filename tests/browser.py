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


def open_menu(page):
    """On a phone the main menu is folded behind "Menu": open it as a person would."""
    button = page.locator("label[for=menu-toggle]")
    if button.is_visible() and not page.locator("#menu-toggle").is_checked():
        button.click()
