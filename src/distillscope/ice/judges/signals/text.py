"""Text made safe to read: invisible format characters removed."""

from __future__ import annotations

import re
import unicodedata

# Characters that are never format characters (tests/ice/judges/signals/test_fast_paths.py checks the
# ranges against `unicodedata`): ASCII, Latin-1 and the Latin extensions but the soft hyphen, general
# punctuation (dashes, quotes, ellipsis) before U+2060, CJK punctuation, ideographs, full-width forms.
# A text of these alone (most answers) is returned as it is after one regex scan.
_MAYBE_HIDDEN = re.compile(
    "[^\x00-\xac\xae-\u02ff\u2010-\u2029\u2030-\u205f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
)
# The non-ASCII characters met so far, by whether they are format characters (Unicode category Cf).
_VISIBLE: set[str] = set()
_HIDDEN: set[str] = set()


def visible_text(text: str) -> str:
    """The text without invisible format characters (zero-width spaces and joiners, bidi overrides,
    BOMs, tag characters: Unicode category Cf), which an answer could use to hide a claim from
    pattern matching. Only the distinct characters not met before are looked up, once each per
    process (a table of every Cf character would cost ~30 ms to build); the rest is set algebra."""
    if text.isascii() or not _MAYBE_HIDDEN.search(text):  # every format character is outside ASCII
        return text
    chars = set(text)
    for char in chars.difference(_VISIBLE, _HIDDEN):
        (_HIDDEN if unicodedata.category(char) == "Cf" else _VISIBLE).add(char)
    hidden = chars.intersection(_HIDDEN)
    return text.translate(dict.fromkeys(map(ord, hidden))) if hidden else text
