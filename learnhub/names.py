"""Names as people type them: with or without accents, any case, any spacing.

One folding rule for every place that matches a typed name against a stored one
(the roll-call search, the signed-sheet import, column headings of uploaded sheets):
"  NGUYỄN   Văn  Ấn " and "nguyen van an" fold to the same key.
"""
from __future__ import annotations

import unicodedata

# Not a combining mark in Unicode, so NFD leaves it whole: map it by hand.
_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str | None) -> str:
    """Lowercase, accents and tone marks removed, đ as d, runs of spaces as one."""
    decomposed = unicodedata.normalize("NFD", (text or "").translate(_D))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())
