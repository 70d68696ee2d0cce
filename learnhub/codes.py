"""Codes people read aloud and type by hand: certificate codes and session check-in codes.

One alphabet for both: Crockford's Base32 (digits and capitals without I, L, O, U),
so that a code copied from paper can be normalised the way Crockford decodes:
O is read as 0, I and L as 1, case and separators do not matter.
"""
from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def random_code(length: int, group: int = 0) -> str:
    """``length`` random symbols (5 bits each), in dash-separated groups of ``group``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(length))
    if not group:
        return raw
    return "-".join(raw[i:i + group] for i in range(0, length, group))


def normalise(typed: str, group: int = 0) -> str:
    """What a person typed, in the canonical spelling: upper case, look-alikes mapped,
    spaces and dashes dropped and then regrouped."""
    raw = "".join(ch for ch in (typed or "").upper() if ch not in " -_\t").translate(_LOOK_ALIKES)
    if not group:
        return raw
    return "-".join(raw[i:i + group] for i in range(0, len(raw), group))
