"""The judge's fast paths find exactly what the plain way finds (so the features, and with them the
shipped weights and every verdict, are unchanged)."""

from __future__ import annotations

import re
import re._constants as re_constants
import re._parser as re_parser
import sys
import unicodedata
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distillscope.ice.judges.signals import features, patterns
from distillscope.ice.judges.signals.features import _CJK_CHARS, _TOKEN, _TOKEN_ASCII, buckets, tokens
from distillscope.ice.judges.signals.patterns import (
    _LAST_SENTENCE_BREAK,
    _PERSONA_DECL,
    _QUOTE_CLOSE,
    _QUOTE_OPEN,
    _SPEAKER_LABEL,
    _SPEECH_VERB,
    _LazyPattern,
)
from distillscope.ice.judges.signals.prompt import (
    _CASE_LOOKALIKES,
    _PERSONA_WORDS,
    _persona_declarations,
)
from distillscope.ice.judges.signals.reader import RuleReader, _last_break
from distillscope.ice.judges.signals.text import _MAYBE_HIDDEN, visible_text

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
def test_buckets_are_the_plain_set_in_the_same_order(text: str) -> None:
    """Hashing each distinct token once builds the same set in the same order as hashing every
    token (the order fixes the order of the scorer's float sums)."""
    tokens = _TOKEN.findall(text.lower())
    every = [zlib.crc32(t.encode("utf-8")) & ((1 << 14) - 1) for t in tokens]  # with repeats
    plain = tuple(set(every))
    assert buckets(text, 14) == plain


# The token pattern as first written (words first); `_TOKEN` tries CJK characters first.
_WORDS_FIRST = re.compile(rf"[^\W_{_CJK_CHARS}]+|[{_CJK_CHARS}]|[^\w\s]")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([*_PIECES, "模型", "ＡＩ", "ｇｐｔ", "한국어", "カタ", "_", "3.5", "x1", "。"]),
        max_size=30,
    ).map("".join)
)
def test_cjk_first_tokens_are_the_words_first_tokens(text: str) -> None:
    low = text.lower()
    assert _TOKEN.findall(low) == _WORDS_FIRST.findall(low)


def test_buckets_stay_right_when_the_token_memo_is_emptied(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "I am ChatGPT, made by OpenAI; 我是一个模型. " * 3 + " ".join(f"w{i}" for i in range(40))
    plain = tuple(set(zlib.crc32(t.encode("utf-8")) & ((1 << 14) - 1) for t in _TOKEN.findall(text.lower())))
    monkeypatch.setattr(features._Buckets, "LIMIT", 8)  # emptied many times within this one text
    features._bucket_of(14).clear()
    assert buckets(text, 14) == plain
    assert len(features._bucket_of(14)) <= 8


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_visible_text_drops_exactly_the_format_characters(text: str) -> None:
    assert visible_text(text) == "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


# ---------------------------------------------------------------- pattern leads
def _first_chars(pattern: str, flags: int) -> tuple[set[str], bool] | None:
    """Every character a match of `pattern` can start with, and whether any of them is matched
    ignoring case; None where that is not a finite set (a category, any character, a pattern that
    can match the empty string). From the parse, so it holds for the pattern as written."""
    parsed = re_parser.parse(pattern, flags)
    seen = {"ignorecase": False}

    def cased(chars: set[str], ignorecase: bool) -> set[str]:
        if not ignorecase:
            return chars
        seen["ignorecase"] = True
        return chars | {c.lower() for c in chars} | {c.upper() for c in chars}

    def sequence(items: list[tuple[object, object]], ignorecase: bool) -> tuple[set[str], bool] | None:
        found: set[str] = set()
        for op, av in items:
            one = item(op, av, ignorecase)
            if one is None:
                return None
            found |= one[0]
            if not one[1]:
                return found, False
        return found, True

    def item(op: object, av: object, ignorecase: bool) -> tuple[set[str], bool] | None:
        if op is re_constants.LITERAL:
            return cased({chr(av)}, ignorecase), False  # type: ignore[call-overload]
        if op is re_constants.IN:
            chars: set[str] = set()
            for o, a in av:  # type: ignore[attr-defined]
                if o is re_constants.LITERAL:
                    chars |= cased({chr(a)}, ignorecase)
                elif o is re_constants.RANGE:
                    chars |= cased({chr(x) for x in range(a[0], a[1] + 1)}, ignorecase)
                else:
                    return None
            return chars, False
        if op is re_constants.BRANCH:
            found: set[str] = set()
            empty = False
            for alternative in av[1]:  # type: ignore[index]
                one = sequence(list(alternative), ignorecase)
                if one is None:
                    return None
                found |= one[0]
                empty |= one[1]
            return found, empty
        if op is re_constants.SUBPATTERN:
            _group, add, remove, sub = av  # type: ignore[misc]
            return sequence(list(sub), (ignorecase or bool(add & re.I)) and not remove & re.I)
        if op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT, re_constants.POSSESSIVE_REPEAT):
            low, _high, sub = av  # type: ignore[misc]
            one = sequence(list(sub), ignorecase)
            return None if one is None else (one[0], low == 0 or one[1])
        if op in (re_constants.AT, re_constants.ASSERT, re_constants.ASSERT_NOT):
            return set(), True  # zero width: the next item starts the match
        return None

    whole = sequence(list(parsed), bool(parsed.state.flags & re.I))
    if whole is None or whole[1]:
        return None
    return whole[0], seen["ignorecase"]


def _leaded() -> list[tuple[str, _LazyPattern]]:
    leaded = [(name, p) for name, p in vars(patterns).items() if isinstance(p, _LazyPattern) and p.lead]
    places = RuleReader()._places
    assert isinstance(places, _LazyPattern)
    return [*leaded, ("places", places)]


def test_every_lead_holds_every_first_character_of_its_pattern() -> None:
    """A lead put before a pattern as a look-ahead changes no match only if it admits every
    character a match can start with (ignoring case, where the pattern does)."""
    leaded = _leaded()
    assert len(leaded) > 20
    for name, pattern in leaded:
        source, flags = pattern._source
        first = _first_chars(source, flags)
        assert first is not None, name
        chars, ignorecase = first
        lead = re.compile(pattern.lead, flags)
        assert all(lead.fullmatch(c) for c in chars), name
        assert not ignorecase or pattern.lead.startswith("(?i:") or flags & re.I, name


_LEAD_TEXT = st.lists(
    st.sampled_from(
        ["I am ", "my ", "We ", "not ", "by ", "team ", "in ", "China", "我", "由", "，", ". ", "\n", "x"]
    ),
    max_size=25,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(_LEAD_TEXT)
def test_leaded_patterns_find_what_the_plain_patterns_find(text: str) -> None:
    for name, pattern in _leaded():
        plain = re.compile(*pattern._source)
        assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in plain.finditer(text)], name


_BREAK_TEXT = st.lists(
    st.sampled_from(["a", " ", ".", "..", "!", "?", "。", "？", "\n", "x y", "\t"]), max_size=30
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_BREAK_TEXT, st.integers(0, 40), st.integers(0, 40))
def test_last_sentence_break_is_the_backtracking_patterns(text: str, a: int, b: int) -> None:
    lo, hi = sorted((min(a, len(text)), min(b, len(text))))
    plain = _LAST_SENTENCE_BREAK.match(text, lo, hi)
    assert _last_break(text, lo, hi) == (plain.end() if plain else lo)


def _inside_quotes_plain(before: str) -> bool:
    """`RuleReader._inside_quotes` as first written: a loop over every character."""
    depth = 0
    last_open = -1
    for i, ch in enumerate(before):
        if ch in _QUOTE_OPEN and (ch not in _QUOTE_CLOSE or depth == 0):
            depth += 1
            last_open = i
        elif ch in _QUOTE_CLOSE and depth > 0:
            depth -= 1
    if depth == 0 or len(before) - last_open <= 3:
        return False
    line_start = before.rfind("\n", 0, last_open) + 1
    label = before[line_start:last_open]
    return not _SPEAKER_LABEL.fullmatch(label) or bool(_SPEECH_VERB.search(label))


_QUOTE_TEXT = st.lists(
    st.sampled_from([*set(_QUOTE_OPEN + _QUOTE_CLOSE), "I said ", "ChatGPT", "\n", "User: ", " ", "ab"]),
    max_size=20,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_QUOTE_TEXT)
def test_inside_quotes_reads_only_the_quote_marks_to_the_same_end(before: str) -> None:
    assert RuleReader._inside_quotes(before) == _inside_quotes_plain(before)


def test_no_format_character_is_in_the_plain_ranges() -> None:
    """`visible_text` returns a text of the plain ranges untouched: none of them may be a format
    character (Unicode category Cf) in this Python's Unicode version."""
    plain = [chr(c) for c in range(sys.maxunicode + 1) if not _MAYBE_HIDDEN.match(chr(c))]
    assert len(plain) > 20_000
    assert not [ch for ch in plain if unicodedata.category(ch) == "Cf"]


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(st.characters(max_codepoint=127), st.sampled_from("’“”—…\u00a0\u3000，。é中٣ǅ_")),
        max_size=60,
    )
)
def test_tokens_of_text_with_ascii_words_are_the_general_tokens(text: str) -> None:
    """Text whose word characters are all ASCII (curly quotes, dashes and CJK punctuation allowed)
    is tokenised by the ASCII pattern; the tokens are the general pattern's."""
    low = text.lower()
    assert tokens(low) == _TOKEN.findall(low)
