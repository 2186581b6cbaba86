"""The judge's fast paths find exactly what the plain way finds (so the features, and with them the
shipped weights and every verdict, are unchanged)."""

from __future__ import annotations

import re
import sys
import unicodedata
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from distillscope.ice.judges.signals.features import _TOKEN, _TOKEN_ASCII, buckets
from distillscope.ice.judges.signals.patterns import _PERSONA_DECL
from distillscope.ice.judges.signals.prompt import (
    _CASE_LOOKALIKES,
    _PERSONA_WORDS,
    _persona_declarations,
)
from distillscope.ice.judges.signals.text import visible_text

# Pieces that make persona declarations, near misses, look-alike letters and format characters.
_PIECES = [
    *_PERSONA_WORDS,
    " are ",
    " as ",
    " to be ",
    "You are ",
    "YOU ARE ",
    "Act as ",
    "Known as ",
    "named ",
    "Luna",
    "DAN",
    "Nova-X",
    "AI named ",
    '"',
    "(",
    " ",
    "\n",
    "x",
    "我是",
    "\u0130",
    "\u0131",
    "\u017f",
    "\u212a",
    "\u200b",
    "\u00ad",
    "é",
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_persona_declarations_are_the_patterns_matches(text: str) -> None:
    expected = [(m.span(), m.group("name")) for m in _PERSONA_DECL.finditer(text)]
    assert [(m.span(), m.group("name")) for m in _persona_declarations(text)] == expected


def test_every_case_look_alike_of_an_ascii_letter_is_known() -> None:
    """The fast persona scan falls back to the pattern where a non-ASCII letter matches an ASCII one
    under IGNORECASE; that list must hold every such code point."""
    letter = re.compile("(?i:[a-z])")
    found = {chr(c) for c in range(0x80, sys.maxunicode + 1) if letter.fullmatch(chr(c))}
    assert found and all(_CASE_LOOKALIKES.fullmatch(ch) for ch in found)
    assert all(len(ch.lower()) == 1 for ch in map(chr, range(sys.maxunicode + 1)) if ch not in found)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_tokens_are_the_general_tokens(text: str) -> None:
    low = text.lower()
    assert _TOKEN_ASCII.findall(low) == _TOKEN.findall(low)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_buckets_without_pairs_are_the_plain_set_in_the_same_order(text: str) -> None:
    """Hashing each distinct token once builds the same set in the same order as hashing every
    token (the order fixes the order of the scorer's float sums)."""
    tokens = _TOKEN.findall(text.lower())
    every = [zlib.crc32(t.encode("utf-8")) & ((1 << 14) - 1) for t in tokens]  # with repeats
    plain = tuple(set(every))
    assert buckets(text, 14, pairs=False) == plain


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_visible_text_drops_exactly_the_format_characters(text: str) -> None:
    assert visible_text(text) == "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
