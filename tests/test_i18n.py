"""Every user-visible string has a Vietnamese translation with the same placeholders."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent / "learnhub"
PO = ROOT / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%%")


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalogue():
    with PO.open("rb") as fh:
        return read_po(fh, locale="vi")


def test_every_string_in_the_code_is_translated():
    catalog = catalogue()
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy: pybabel would not compile it"
    missing = sorted(m for m in source_messages()
                     if not catalog.get(m) or not catalog.get(m).string or catalog.get(m).fuzzy)
    assert missing == [], "untranslated (run make i18n-update and translate): " + "; ".join(missing)


def test_translations_keep_their_placeholders():
    wrong = []
    for message in catalogue():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if sorted(PLACEHOLDER.findall(ids[0])) != sorted(PLACEHOLDER.findall(strings[0])):
            wrong.append(ids[0])
    assert wrong == []
