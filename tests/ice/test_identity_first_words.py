"""The registry's fast search for first words finds the same words as splitting the text into its
letter and digit runs (the general way), so `match_names` is unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from distillscope.ice.identity import _TOKEN, IdentityRegistry

_REGISTRY = IdentityRegistry.builtin()
_PIECES = [
    *sorted(_REGISTRY._first_words)[:60],
    " ",
    "-",
    "x",
    "3",
    "٣",
    "４",
    "中",
    "é",
    "ß",
    "ǅ",
    "\u212a",
    "\u0130",
    "?",
    "_",
    "\n",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_first_words_are_the_whole_runs_of_letters_or_digits(text: str) -> None:
    low = text.lower()
    assert _REGISTRY._first_words_in(low) == _REGISTRY._first_words.intersection(_TOKEN.findall(low))
