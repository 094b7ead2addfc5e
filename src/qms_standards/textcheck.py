"""What no text people give qms may hold: control characters, and ids that only look like other ids.

A control character (an escape clears a terminal; a lone carriage return splits a Markdown table
row) reaches every output unchanged. An id holding a zero-width space, a fullwidth colon or a right-to-left
override looks identical on screen to another id and is a different one to the program. Both are refused
with the character named, by the models' shared validator (`models.Model`).
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls except tab and line feed, and the bidirectional controls that reorder shown text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PLAIN_ID = re.compile(r"[\x21-\x7e]*")

# Fields that hold identifiers or references, wherever they appear.
ID_FIELDS = frozenset({"id", "ref", "refs", "domain", "prefix", "ref_a", "ref_b"})


def _name(char: str) -> str:
    return f"U+{ord(char):04X}" + (f" {unicodedata.name(char)}" if unicodedata.name(char, "") else "")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be accepted as text (a control character, with its position), else None."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group()
    what = {"\r": "a carriage return (CR)", "\x1b": "an escape (ESC)", "\x00": "a NUL"}.get(char, _name(char))
    return f"holds {what} at character {found.start() + 1}, a control character"


def id_problem(value: str) -> str | None:
    """Why `value` cannot be accepted as an id: invisible or look-alike characters, else None."""
    if _PLAIN_ID.fullmatch(value):
        return None
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category in ("Cf", "Cc", "Zs", "Zl", "Zp") or category.startswith("M"):
            return f"holds an invisible character {_name(char)} at character {index + 1}"
    normal = unicodedata.normalize("NFKC", value)
    if normal != value:
        char = next((c for c in value if unicodedata.normalize("NFKC", c) != c), value[0])
        return (
            f"holds {_name(char)}, which looks like '{unicodedata.normalize('NFKC', char)}' "
            f"but is another character"
        )
    return None


TEXT_HINT = (
    "Delete the character (it may have come from a copy and paste); write line breaks as new lines, "
    "not as escapes such as \\r or \\e."
)
ID_HINT = "Retype the id with plain characters (letters, digits, '-', '.', '/'): it must match the source."
