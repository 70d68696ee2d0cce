"""Pages for slow links: gzip when the browser accepts it, and a stylesheet that is fetched
once and then kept for a year, under a name that changes when its content does."""
from __future__ import annotations

import gzip
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

from learnhub.assets import hashed_names

from . import factories

STATIC = Path(__file__).resolve().parent.parent / "learnhub" / "static"


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        ref = {"link": a.get("href"), "script": a.get("src"), "img": a.get("src")}.get(tag)
        if ref and not ref.startswith("data:"):
            self.refs.append(ref)


def _lesson_path(client, courses) -> str:
    course = next(iter(courses.values()))
    lesson = factories.lessons_of(course)[0]
    return f"/courses/{course.slug}/{lesson.slug}"


def test_pages_are_gzipped_when_the_browser_accepts_it_and_plain_otherwise(client, db, courses, login_as):
    login_as("official")
    path = _lesson_path(client, courses)
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers and plain.get_data(as_text=True).rstrip().endswith("</html>")
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    html = gzip.decompress(packed.data).decode()
    assert html.rstrip().endswith("</html>")
    assert len(packed.data) < len(plain.data) / 2
    # A client that only takes the identity encoding gets the page as it is.
    assert "Content-Encoding" not in client.get(path, headers={"Accept-Encoding": "identity"}).headers


def test_the_stylesheet_has_a_content_hashed_name_and_a_year_long_immutable_cache(client, db, courses, login_as):
    login_as("official")
    html = client.get(_lesson_path(client, courses)).get_data(as_text=True)
    digest = hashlib.sha256((STATIC / "app.css").read_bytes()).hexdigest()[:12]
    assert f'href="/static/app.{digest}.css"' in html
    response = client.get(f"/static/app.{digest}.css")
    assert response.status_code == 200 and response.data == (STATIC / "app.css").read_bytes()
    cache = response.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
    packed = client.get(f"/static/app.{digest}.css", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and gzip.decompress(packed.data) == response.data
    # The plain name keeps working, revalidated as before; an earlier release's hashed name
    # gets today's file without the long cache (no browser keeps it as that name's content).
    old = client.get("/static/app.css")
    assert old.status_code == 200 and "immutable" not in old.headers.get("Cache-Control", "")
    stale = client.get("/static/app.0123456789ab.css")
    assert stale.status_code == 200 and stale.data == response.data
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    assert client.get("/static/nothing.0123456789ab.css").status_code == 404


def test_the_quiz_script_is_hashed_too():
    digest = hashlib.sha256((STATIC / "quiz.js").read_bytes()).hexdigest()[:12]
    assert hashed_names(str(STATIC))["quiz.js"] == f"quiz.{digest}.js"


def test_a_changed_file_gets_a_new_name(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "site.css"
    sheet.write_text("body { color: #222; }")
    first = hashed_names(str(tmp_path))["css/site.css"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", first)
    assert hashed_names(str(tmp_path))["css/site.css"] == first  # same content, same name
    sheet.write_text("body { color: #111; }")
    assert hashed_names(str(tmp_path))["css/site.css"] != first


def test_pages_ask_nothing_of_another_host_and_stay_small(client, db, courses, login_as):
    login_as("official")
    for path in ("/", _lesson_path(client, courses), "/my", "/login"):
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        html = gzip.decompress(response.data).decode() if response.headers.get("Content-Encoding") else response.get_data(as_text=True)
        parser = _Refs()
        parser.feed(html)
        for ref in parser.refs:
            assert ref.startswith(("/", "#")) and not ref.startswith("//"), (path, ref)
    # A lesson with its stylesheet, as a phone receives it (gzip), weighs a few KB.
    lesson = client.get(_lesson_path(client, courses), headers={"Accept-Encoding": "gzip"})
    css = re.search(r'href="(/static/app\.[0-9a-f]{12}\.css)"', gzip.decompress(lesson.data).decode()).group(1)
    total = len(lesson.data) + len(client.get(css, headers={"Accept-Encoding": "gzip"}).data)
    assert total < 30_000
