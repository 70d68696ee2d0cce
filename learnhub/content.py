"""Markdown → safe HTML, shared by lessons, course overviews, pages and quiz text.

Rendered once when content is imported; pages serve the stored HTML.
Pure: no Flask, no database.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import markdown
import nh3

# Bump when the pipeline changes output, so the next sync re-renders everything.
# 2: ids kept clear of the app's own ids, code classes limited to language-*, no
#    protocol-relative URLs, no id on <a>, TOC labels no longer double-escaped.
#    3: every table inside a scrolling wrapper, so a wide one never widens a phone's page.
#    4: the programme form's checkbox ids (courses-N, units-N) reserved.
#    5: the certificate override form's ids (override_reason, override-hint, not-issued) reserved.
#    6: ids of the conference-day pages and the committee dashboard reserved.
#    7: course material keeps only links to its own attachments and http(s) (course_links).
RENDER_VERSION = "7"

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup",
    "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
# No style, no on*, no name, no target, no srcdoc/formaction/xlink:href: only these.
# <a> carries no id: an anchor with an id is the strongest DOM-clobbering gadget
# (window.<id> whose string value is the attacker's href).
_ALLOWED_ATTRIBUTES = {
    "*": {"title"},  # replaces nh3's default generic set (title, lang)
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    "code": {"class"},  # only language-* survives, see _attribute_filter
    "li": {"id"},
    "sup": {"id"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
_ALLOWED_CLASSES = {
    "div": {"admonition", "note", "tip", "warning", "example", "important", "danger",
            "caution", "footnote", "toc", "table-wrap"},
    "p": {"admonition-title"},
    "span": {"gap"},
}
_CODE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
# Only these schemes survive; javascript:, vbscript:, data: and the rest are dropped.
_URL_SCHEMES = {"http", "https", "mailto", "tel"}

# Ids the pages themselves use (templates and WTForms fields). A heading or raw
# HTML id equal to one of them would be found first by getElementById (a question
# titled "Submit attempt" would capture quiz.js's submit handler) or would
# retarget a <label for>. Such ids get _ID_SUFFIX, in the element and in
# "#fragment" links alike, so the table of contents keeps working.
_RESERVED_IDS = frozenset({
    # templates
    "attempt-form", "checkin-code", "code", "code-hint", "conflicts", "deadline",
    "description", "ends_at", "file", "grace_minutes", "issue-form", "issuer_name",
    "main", "q", "result", "roll-form", "save-status", "starts_at", "status",
    "submit-attempt", "timer", "title", "toc-title", "trainer", "unit",
    "validity_months", "venue", "content", "csrf_token", "check-in-now", "checked-in", "checkin-qr",
    "import-form", "projector", "rotation-note", "seconds", "shown", "totals", "rotate_seconds",
    "program", "year", "units-h", "officials-h", "lagging-h", "weekly-h", "sessions-h",
    # form fields (WTForms renders id=name)
    "confirm", "current", "email", "full_name", "grading", "max_attempts", "new",
    "pass_percent", "password", "phone", "position", "questions_per_attempt",
    "remember", "review", "role", "shuffle_answers", "shuffle_questions",
    "time_limit_minutes", "unit_code", "username", "submit", "next", "action",
    "quiz-status", "right_answers", "menu-toggle", "main-menu", "lesson-actions", "identifier", "rename-name", "move-target", "merge-target", "change-summary",
    "courses", "units", "requires_attendance", "not-issued", "override_reason", "override-hint",
    # names whose clobbering would matter to any script
    "__proto__", "constructor", "prototype", "document", "window", "self", "top",
    "parent", "opener", "frames", "location", "name",
})
_RESERVED_ID_PATTERN = re.compile(
    r"(?:slot-\d+|q\d+(?:-input|-m\d+|-shown)?|(?:comment|note|official|percent|reason|status|courses|units|all-present|line|pick|programme)-\d+"
    r"|table-(?:completion|lagging|sessions|weekly|officials|weak-\d+|\d+)"
    r"|chart-(?:certified|weekly|sessions)(?:-title|-desc|-dots|-hatch|-cross)?"
    r"|.*-(?:error|hint)|materials-.*)", re.IGNORECASE)
_EXTENSIONS = ["extra", "toc", "admonition", "sane_lists"]

_ID_SUFFIX = "-muc"
_ID_SHAPE = re.compile(r"[^\W_][\w:.-]{0,99}")


def safe_id(value: str) -> str | None:
    """The id to emit for a user/author supplied id, or None to drop it.

    Whitespace runs become "-" (footnote labels may contain spaces); anything not
    shaped like a plain word id is dropped; ids the app uses get a suffix.
    """
    value = re.sub(r"\s+", "-", value.strip())
    if not _ID_SHAPE.fullmatch(value):
        return None
    if value.lower() in _RESERVED_IDS or _RESERVED_ID_PATTERN.fullmatch(value):
        value += _ID_SUFFIX
    return value


# Characters a browser ignores or strips when it parses a URL.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\ufeff]")


def _relative_url(url: str) -> str | None:
    """Relative URLs stay, except ones that leave the site (//host, /\\host) and ones
    that only look relative until decoded once more (&#106;avascript:, javascript%3A)."""
    decoded = url
    for _ in range(3):
        decoded = html.unescape(decoded)
    decoded = _URL_IGNORED.sub("", unquote(_URL_IGNORED.sub("", decoded))).replace("\\", "/")
    if decoded.startswith("//") or ":" in re.split(r"[/?#]", decoded, maxsplit=1)[0]:
        return None
    return url


# (tag, attribute, url) → the url to emit, or None to drop the attribute. Runs inside the
# sanitiser, on every href and src it keeps, so no second pass over the HTML is needed.
LinkPolicy = Callable[[str, str, str], "str | None"]

ATTACHMENT_PREFIX = "attachments/"


def course_links(base_url: str, attachments: Iterable[str]) -> LinkPolicy:
    """Links and images of course material.

    ``attachments/<name>`` of one of the course's own attachments becomes
    ``base_url + name``; links may also go to http(s) addresses and to "#fragments"
    of the page itself. Images may show only the course's own attachments: an image
    from another site would be a request outside the server (and the pages'
    Content-Security-Policy blocks it anyway). Everything else is dropped.
    """
    names = frozenset(attachments)

    def policy(tag: str, attr: str, url: str) -> str | None:
        url = url.strip()
        relative = url[2:] if url.startswith("./") else url
        if relative.startswith(ATTACHMENT_PREFIX):
            name = unquote(relative[len(ATTACHMENT_PREFIX):])
            return base_url + quote(name) if name in names else None
        if tag == "a" and attr == "href":
            if url.startswith("#"):
                return url
            parts = urlsplit(url)
            if parts.scheme.lower() in ("http", "https") and parts.netloc:
                return url
        return None

    return policy


def _attribute_filter(tag: str, attr: str, value: str, links: LinkPolicy | None = None) -> str | None:
    if links is not None and attr in ("href", "src"):
        kept = links(tag, attr, value)
        if kept is None:
            return None
        value = kept
    if attr == "id":
        return safe_id(value)
    if attr == "class":
        tokens = value.split()
        if tag == "code":
            kept = [t for t in tokens if _CODE_CLASS.fullmatch(t)]
        else:
            allowed = _ALLOWED_CLASSES.get(tag, set())
            kept = [t for t in tokens if t in allowed]
        return " ".join(dict.fromkeys(kept)) or None
    if attr == "href" and value.startswith("#"):
        fragment = safe_id(value[1:]) if value[1:].strip() else None
        return "#" + fragment if fragment else value
    if attr in ("width", "height", "colspan", "rowspan", "start"):
        return value if re.fullmatch(r"\d{1,5}", value.strip()) else None
    return value


def slugify(value: str, separator: str = "-") -> str:
    """ASCII anchor ids from Vietnamese headings ("Ghi nhớ" → "ghi-nho")."""
    value = value.replace("đ", "d").replace("Đ", "D")
    value = unicodedata.normalize("NFKD", value)
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = re.sub(r"[^\w\s-]", "", value.encode("ascii", "ignore").decode()).strip().lower()
    return safe_id(re.sub(r"[\s_-]+", separator, value) or "muc") or "muc"


def sanitize(html_text: str, links: LinkPolicy | None = None) -> str:
    # CR/CRLF become LF as an HTML parser would; keeps the output stable when re-parsed.
    html_text = html_text.replace("\r\n", "\n").replace("\r", "\n")
    return nh3.clean(
        html_text,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "template", "noscript", "xmp", "iframe",
                            "noembed", "noframes", "plaintext", "title", "textarea",
                            "select", "object", "embed", "applet", "svg", "math"},
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter if links is None else (
            lambda tag, attr, value: _attribute_filter(tag, attr, value, links)),
        allowed_classes=_ALLOWED_CLASSES,
        url_schemes=_URL_SCHEMES,
        url_relative=_relative_url,
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
                # "name" arrives HTML-escaped from Markdown: unescape once so "&lt;" is not shown.
                f'<li><a href="#{html.escape(item["id"])}">{html.escape(html.unescape(item["name"]))}</a>'
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


def render_markdown(text: str, links: LinkPolicy | None = None) -> Rendered:
    """The one pipeline for every Markdown the site shows, synced or uploaded.

    ``links`` (see ``course_links``) restricts where links and images may point.
    """
    md = markdown.Markdown(
        extensions=_EXTENSIONS,
        extension_configs={"toc": {"slugify": slugify, "toc_depth": "2-3"}},
        output_format="html",
    )
    body = md.convert(text)
    toc = _toc_html(getattr(md, "toc_tokens", []))
    return Rendered(html=_wrap_tables(sanitize(body, links)), toc_html=sanitize(toc))


def _wrap_tables(html_text: str) -> str:
    # Sanitised tables carry no attributes, so "<table>" is exact; the wrapper scrolls sideways.
    return html_text.replace("<table>", '<div class="table-wrap"><table>').replace("</table>", "</table></div>")


def render_plain(text: str) -> str:
    """Plain text to HTML paragraphs (quiz 'plain' format)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs
    )


def word_count(text: str) -> int:
    return len(text.split())
