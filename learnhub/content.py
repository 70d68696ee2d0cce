"""Markdown → safe HTML, shared by lessons, course overviews, pages and quiz text.

Rendered once when content is imported; pages serve the stored HTML.
Pure: no Flask, no database.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import markdown
import nh3

# Bump when the pipeline changes output, so the next sync re-renders everything.
RENDER_VERSION = "1"

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup",
    "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    "code": {"class"},
    "li": {"id"},
    "sup": {"id"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
_ALLOWED_CLASSES = {
    "div": {"admonition", "note", "tip", "warning", "example", "important", "danger",
            "caution", "footnote", "toc"},
    "p": {"admonition-title"},
    "span": {"gap"},
}
# Only these schemes survive; javascript:, vbscript:, data: and the rest are dropped.
_URL_SCHEMES = {"http", "https", "mailto", "tel"}

_EXTENSIONS = ["extra", "toc", "admonition", "sane_lists"]


def slugify(value: str, separator: str = "-") -> str:
    """ASCII anchor ids from Vietnamese headings ("Ghi nhớ" → "ghi-nho")."""
    value = value.replace("đ", "d").replace("Đ", "D")
    value = unicodedata.normalize("NFKD", value)
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = re.sub(r"[^\w\s-]", "", value.encode("ascii", "ignore").decode()).strip().lower()
    return re.sub(r"[\s_-]+", separator, value) or "muc"


def sanitize(html_text: str) -> str:
    return nh3.clean(
        html_text,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        allowed_classes=_ALLOWED_CLASSES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


@dataclass(frozen=True)
class Rendered:
    html: str
    toc_html: str  # nested <ul> of the headings, "" when there are fewer than two


def _toc_html(tokens: list[dict]) -> str:
    def walk(items: list[dict]) -> str:
        parts = []
        for item in items:
            children = walk(item.get("children") or [])
            parts.append(
                f'<li><a href="#{html.escape(item["id"])}">{html.escape(item["name"])}</a>'
                f"{children}</li>"
            )
        return f"<ul>{''.join(parts)}</ul>" if parts else ""

    count = 0
    stack = list(tokens)
    while stack:
        item = stack.pop()
        count += 1
        stack.extend(item.get("children") or [])
    return walk(tokens) if count >= 2 else ""


def render_markdown(text: str) -> Rendered:
    md = markdown.Markdown(
        extensions=_EXTENSIONS,
        extension_configs={"toc": {"slugify": slugify, "toc_depth": "2-3"}},
        output_format="html",
    )
    body = md.convert(text)
    toc = _toc_html(getattr(md, "toc_tokens", []))
    return Rendered(html=sanitize(body), toc_html=sanitize(toc))


def render_plain(text: str) -> str:
    """Plain text to HTML paragraphs (quiz 'plain' format)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs
    )


def word_count(text: str) -> int:
    return len(text.split())
