"""Text made safe to read: invisible format characters removed."""

from __future__ import annotations

import unicodedata

# The non-ASCII characters met so far, by whether they are format characters (Unicode category Cf).
_VISIBLE: set[str] = set()
_HIDDEN: set[str] = set()


def visible_text(text: str) -> str:
    """The text without invisible format characters (zero-width spaces and joiners, bidi overrides,
    BOMs, tag characters: Unicode category Cf), which an answer could use to hide a claim from
    pattern matching. Only the distinct characters not met before are looked up, once each per
    process (a table of every Cf character would cost ~30 ms to build); the rest is set algebra."""
    if text.isascii():  # every format character is outside ASCII (the first is U+00AD)
        return text
    chars = set(text)
    for char in chars.difference(_VISIBLE, _HIDDEN):
        (_HIDDEN if unicodedata.category(char) == "Cf" else _VISIBLE).add(char)
    hidden = chars.intersection(_HIDDEN)
    return text.translate(dict.fromkeys(map(ord, hidden))) if hidden else text
