"""Text made safe to read: invisible format characters removed."""

from __future__ import annotations

import unicodedata

_FORMAT_CHARACTER: dict[str, bool] = {}  # character -> Unicode category Cf, as met


def visible_text(text: str) -> str:
    """The text without invisible format characters (zero-width spaces and joiners, bidi overrides,
    BOMs, tag characters: Unicode category Cf), which an answer could use to hide a claim from
    pattern matching. Only the distinct non-ASCII characters of the text are looked up, once each
    per process: a table of every Cf character would cost ~30 ms to build."""
    if text.isascii():  # every format character is outside ASCII (the first is U+00AD)
        return text
    hidden = []
    for char in set(text):
        known = _FORMAT_CHARACTER.get(char)
        if known is None:
            known = _FORMAT_CHARACTER[char] = unicodedata.category(char) == "Cf"
        if known:
            hidden.append(char)
    return text.translate(dict.fromkeys(map(ord, hidden))) if hidden else text
