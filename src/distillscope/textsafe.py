"""Text made safe once, where it enters: lone surrogates replaced, and "empty" meaning no visible
character.

A JSON body may carry `"\\ud83d"` (half of a UTF-16 pair), which Python decodes to a lone
surrogate: a `str` that cannot be encoded as UTF-8, so the first write of it (the ledger, a JSONL
file, the terminal) fails. Every answer and every message of a request passes `repair_surrogates`
on its way in; the count of replaced characters is logged by the caller.

An answer made only of zero-width spaces, byte-order marks, Hangul fillers or blank Braille cells
looks blank on every screen: `has_visible` is False for it, so it counts as `empty`, like a blank
answer, and is never judged.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")

# Code points that render as nothing (Unicode's Default_Ignorable_Code_Point that are not
# format characters, which are caught by category) or as a blank cell.
_BLANK_LOOKING = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))  # variation selectors
)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Co", "Zs", "Zl", "Zp"})


def repair_surrogates(text: str) -> tuple[str, int]:
    """`text` with every lone surrogate replaced by U+FFFD, and how many there were.

    (A valid pair cannot occur in a Python `str` decoded from JSON: `json` joins it into one code
    point; what is left is always a lone half.)"""
    if not _SURROGATE.search(text):
        return text, 0
    return _SURROGATE.subn(REPLACEMENT, text)


def safe_text(text: str) -> str:
    """`text` without lone surrogates (see `repair_surrogates`)."""
    return repair_surrogates(text)[0]


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def is_visible(ch: str) -> bool:
    """Whether a character leaves a mark: not whitespace, not a format or control character, not
    a filler or blank cell (a combining mark counts: it is drawn, on a dotted circle if alone)."""
    if ch.isspace() or ch in _BLANK_LOOKING:
        return False
    if 0xE0000 <= ord(ch) <= 0xE0FFF:  # tags and variation selectors supplement
        return False
    return unicodedata.category(ch) not in _INVISIBLE_CATEGORIES


def has_visible(text: str) -> bool:
    """Whether `text` shows anything at all; False for "", whitespace and invisible-only text."""
    rest = text.lstrip()
    if rest[:1].isascii() and rest[:1].isprintable() and rest[:1]:  # the common case, at once
        return True
    return any(is_visible(ch) for ch in rest)


# A JSON or YAML escape of a surrogate (`\ud83d`): the only way one gets into text decoded from UTF-8.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def may_hold_surrogates(source: str) -> bool:
    """Whether JSON or YAML `source` text has a surrogate escape (a cheap test before a walk)."""
    return _ESCAPED_SURROGATE.search(source) is not None


def repair_strings(value: Any) -> Any:
    """A parsed JSON/YAML value with lone surrogates replaced in every string (keys too), in
    place where it can be; returns the value (a new one for a bare string)."""
    if isinstance(value, str):
        return safe_text(value)
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(isinstance(k, str) and has_surrogates(k) for k in node):
                items = [(safe_text(k) if isinstance(k, str) else k, v) for k, v in node.items()]
                node.clear()
                node.update(items)
            for key, child in node.items():
                if isinstance(child, str):
                    node[key] = safe_text(child)
                elif isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(node, list):
            for i, child in enumerate(node):
                if isinstance(child, str):
                    node[i] = safe_text(child)
                elif isinstance(child, dict | list):
                    stack.append(child)
    return value


_SHOWN_AS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(ch: str) -> str:
    if ch in _SHOWN_AS:
        return _SHOWN_AS[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control (Cc) and format (Cf) character written as a visible escape
    (`\\x1b`, `\\u202e`), so that text from a model, a server or a file name is inert wherever it
    is shown: on a terminal (no escape sequence, OSC 8 link, title or cursor move runs), in a
    Markdown report (no NUL, no bidi override reordering the line). `keep_newlines` leaves `\\n`."""
    if text.isascii() and text.isprintable():  # the common case, at once
        return text
    return "".join(
        _escaped(ch)
        if unicodedata.category(ch) in ("Cc", "Cf") and not (keep_newlines and ch == "\n")
        else ch
        for ch in text
    )


# The characters that change the order text is shown in (embeddings, overrides, isolates, marks):
# U+202E in a model's name shows `abc` as `cba`, and everything after it on the line reversed.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible_bidi(text: str) -> str:
    """`text` with its bidi controls written as visible escapes (`\\u202e`), as `visible_controls`
    writes them, and every other character kept: for pages that keep their line breaks, tabs and
    emoji joiners (the HTML report), where only the reordering must go."""
    if text.isascii():
        return text
    return BIDI_CONTROLS.sub(lambda match: _escaped(match.group()), text)
