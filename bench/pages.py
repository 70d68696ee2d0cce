"""What a page costs a phone: the HTML plus every same-origin stylesheet, script and image
it references; and a browser filling in a form (the quiz) as a person would."""
from __future__ import annotations

import gzip
import random
import secrets
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .common import Client


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        ref = {"link": a.get("href"), "script": a.get("src"), "img": a.get("src")}.get(tag)
        if ref:
            self.refs.append(ref)


def _same_origin(ref: str, port: int) -> str | None:
    parts = urllib.parse.urlsplit(ref)
    if parts.scheme in ("", "http") and parts.netloc in ("", f"127.0.0.1:{port}") and not ref.startswith("//") \
            and (parts.path or parts.query) and parts.scheme != "data":
        return urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
    return None


@dataclass
class Weight:
    html: int
    assets: dict[str, int]
    total: int
    total_gzip_requested: int   # bytes on the wire when the browser asks for gzip
    server_gzips: bool
    total_if_gzipped: int       # what gzip -6 of each response would weigh

    def describe(self) -> str:
        assets = ", ".join(f"{path.rsplit('/', 1)[-1].split('?')[0]} {size:,}" for path, size in self.assets.items())
        sent = (f"{self.total_gzip_requested:,} B with gzip" if self.server_gzips
                else f"not compressed by the server (gzip would make it {self.total_if_gzipped:,} B)")
        return f"{self.total:,} B = HTML {self.html:,} + {assets or 'no assets'}; {sent}"


def page_weight(port: int, path: str, cookie: str) -> Weight:
    client = Client(port)
    status, _, body = client.request("GET", path, headers={"Cookie": cookie})
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    parser = _Refs()
    parser.feed(body.decode("utf-8", "replace"))
    paths = []
    for ref in parser.refs:
        target = _same_origin(ref, port)
        if target and target not in paths:
            paths.append(target)
    sizes = {path: len(body)}
    wire_gzip = {}
    packed = {path: len(gzip.compress(body, 6))}
    server_gzips = False
    for target in [path, *paths]:
        status, headers, data = client.request("GET", target, headers={"Cookie": cookie, "Accept-Encoding": "gzip"})
        if status != 200:
            raise RuntimeError(f"GET {target} answered {status}")
        wire_gzip[target] = len(data)
        if headers.get("Content-Encoding", "") == "gzip":
            server_gzips = True
        if target != path:
            status, _, plain = client.request("GET", target, headers={"Cookie": cookie})
            sizes[target] = len(plain)
            packed[target] = len(gzip.compress(plain, 6))
    client.close()
    return Weight(html=sizes[path], assets={p: sizes[p] for p in paths}, total=sum(sizes.values()),
                  total_gzip_requested=sum(wire_gzip.values()), server_gzips=server_gzips,
                  total_if_gzipped=sum(packed.values()))


# --- filling in a form --------------------------------------------------------------------


@dataclass
class _Field:
    kind: str            # hidden, radio, checkbox, text, textarea, select
    name: str
    value: str = ""
    options: list[str] = field(default_factory=list)


class _Form(HTMLParser):
    """The named fields of <form id=...>, as a browser would collect them."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[_Field] = []
        self._select: _Field | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        if not self.inside or not a.get("name"):
            if tag == "option" and self._select is not None and a.get("value"):
                self._select.options.append(a["value"])
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("radio", "checkbox"):
                group = next((f for f in self.fields if f.kind == kind and f.name == name), None)
                if group is None:
                    group = _Field(kind, name)
                    self.fields.append(group)
                group.options.append(a.get("value", "on"))
            elif kind == "hidden":
                self.fields.append(_Field("hidden", name, a.get("value", "")))
            else:
                self.fields.append(_Field("text", name, a.get("value") or ""))
        elif tag == "textarea":
            self.fields.append(_Field("textarea", name))
        elif tag == "select":
            self._select = _Field("select", name)
            self.fields.append(self._select)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None


def fill_form(html: str, form_id: str, variant: int, rng: random.Random) -> list[tuple[str, str]]:
    """Answer every question of the form; ``variant`` changes the choices made."""
    parser = _Form(form_id)
    parser.feed(html)
    if not parser.fields:
        raise RuntimeError(f"no form #{form_id} with fields on the page")
    out = []
    for f in parser.fields:
        if f.kind == "hidden":
            out.append((f.name, f.value))
        elif f.kind in ("radio", "select") and f.options:
            out.append((f.name, f.options[(variant + rng.randrange(len(f.options))) % len(f.options)]))
        elif f.kind == "checkbox" and f.options:
            out.append((f.name, f.options[variant % len(f.options)]))
        elif f.kind == "text":
            out.append((f.name, str(10 + variant)))
        elif f.kind == "textarea":
            out.append((f.name, "Quy trình được kiểm soát bằng hồ sơ và đánh giá nội bộ." * (1 + variant)))
    return out


def multipart(fields: list[tuple[str, str]], boundary: str | None = None) -> tuple[str, str]:
    """The body fetch() sends for a FormData, and its Content-Type."""
    boundary = boundary or "----WebKitFormBoundary" + secrets.token_hex(8)
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts), f"multipart/form-data; boundary={boundary}"
