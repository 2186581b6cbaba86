"""The reading of an answer as numbers for the scorer.

Two blocks:
- the signal vector (`SIGNALS`): the rules' verdict and category, how many names of the target's
  own organisation, of OpenAI / Anthropic and of other vendors the answer holds and how many are
  voiced as a role, whether it says who really built it, a persona or a reasoning trace, which
  tiers of vendor the prompt names, the answer's length;
- hashed tokens (words, CJK characters, punctuation; each on its own) of the answer and words of
  the prompt, with every registry name replaced by a placeholder of its tier (the target's own, a
  strict vendor, another vendor). The scorer so learns "made by <strict vendor>" rather than any one
  name, and what it learns carries over to targets it never saw.

Hashing is CRC-32 of the UTF-8 token (stable across processes and platforms, unlike `hash`); a
bucket is the hash modulo 2**bits. Single tokens, not pairs of tokens in a row, and a 2**16-bucket
space for the answer: hashing pairs cost as much again as the tokens, and the scorer's lookups into a
2**18-slot list missed the cache. The answer's tokens are read up to `head_chars` (600) from its
start and `tail_chars` (300) from its end (was 6,000 and 1,500; the paper's median answer has 444
characters), while the rule reader, whose signals the scorer weighs too, reads it whole. Together they
cost at most 0.005 of each leave-one-model-out figure fixed for acceptance (bench/README.md, "Judge
speed, round 4"). Plain Python:
judging needs no numpy (an ICE run loads no heavy library).
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from itertools import chain

from distillscope.ice.judges.signals.reader import RuleReading
from distillscope.ice.types import Category

CATEGORIES = tuple(Category)
SIGNALS: tuple[str, ...] = (
    "rule_loose",
    "rule_strict",
    "rule_unsure",
    "rule_unsure_yes",
    *(f"category_{c.value}" for c in CATEGORIES),
    "own_mentions",
    "other_mentions",
    "strict_mentions",
    "role_mentions",
    "claims_own",
    "persona",
    "thinking",
    "template_own",
    "template_strict",
    "template_other",
    "chinese_query",
    "length",
)
STRICT_MENTIONS = SIGNALS.index("strict_mentions")
PLACEHOLDERS = ("zzownnamezz", "zzstrictvendorzz", "zzothervendorzz")  # by tier 0, 1, 2
_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
# Single CJK characters, words (letters and digits, CJK excluded), single punctuation marks. The
# three start on different characters, so their order changes no token; CJK first is faster on
# Chinese answers, where nearly every character is one.
_TOKEN = re.compile(rf"[{_CJK_CHARS}]|[^\W_{_CJK_CHARS}]+|[^\w\s]")
# `_TOKEN` on lower-cased text whose word characters are all ASCII (an English answer with curly
# quotes or dashes too), where it finds the same tokens (the CJK classes cannot match), about twice
# as fast.
_TOKEN_ASCII = re.compile(r"[a-z0-9]+|[^\w\s]")
_NON_ASCII_WORD = re.compile(r"[^\W\x00-\x7f]")


def tokens(low: str) -> list[str]:
    """The tokens of lower-cased text (`_TOKEN`)."""
    plain = low.isascii() or not _NON_ASCII_WORD.search(low)
    return (_TOKEN_ASCII if plain else _TOKEN).findall(low)


_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class FeatureConfig:
    """How the features are made; the weights file records it and must match it exactly."""

    text_bits: int = 16
    template_bits: int = 14
    head_chars: int = 600
    tail_chars: int = 300
    template_chars: int = 6000
    # A block's buckets each weigh 1/sqrt(max(count, norm_floor)): a short answer's few n-grams
    # would otherwise each weigh as much as a sentence of evidence (a 5-word answer ~3x a long one's).
    norm_floor: int = 64
    hashing: int = 4  # the version of the tokens and their hashing (`buckets`)

    def as_dict(self) -> dict[str, int]:
        return {
            "hashing": self.hashing,
            "signals": len(SIGNALS),
            "text_bits": self.text_bits,
            "template_bits": self.template_bits,
            "head_chars": self.head_chars,
            "tail_chars": self.tail_chars,
            "template_chars": self.template_chars,
            "norm_floor": self.norm_floor,
        }


@dataclass(frozen=True)
class Features:
    """One answer's features: the dense signal vector and the hashed buckets present (each of
    value 1/sqrt(max(count, norm_floor)), so a block has at most unit length)."""

    signals: tuple[float, ...]
    text: tuple[int, ...]
    template: tuple[int, ...]


def abstracted(text: str, spans: tuple[tuple[int, int, int], ...]) -> str:
    """`text` with each registry name replaced by the placeholder of its tier."""
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end, tier in spans:
        parts.append(text[at:start])
        parts.append(f" {PLACEHOLDERS[tier]} ")
        at = end
    parts.append(text[at:])
    return "".join(parts)


class _Buckets(dict[str, int]):
    """Token -> bucket, each token hashed the first time it is met: answers share most of their
    words, so a lookup (one C call) mostly replaces encoding and hashing (three). Bounded: emptied
    when it holds `LIMIT` tokens."""

    LIMIT = 1 << 16  # ~8 MB at most; the paper's 8,673 answers hold ~15,000 distinct tokens

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.mask = (1 << bits) - 1

    def __missing__(self, token: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        bucket = self[token] = zlib.crc32(token.encode()) & self.mask
        return bucket


_BY_BITS: dict[int, _Buckets] = {}


def _bucket_of(bits: int) -> _Buckets:
    table = _BY_BITS.get(bits)
    if table is None:
        table = _BY_BITS[bits] = _Buckets(bits)
    return table


def word_buckets(text: str, bits: int) -> tuple[int, ...]:
    """The distinct buckets of the lower-cased text's tokens in order of first sight: a set built
    from them (alone, or after another text's) holds what `buckets` of the text (or of the two
    texts joined) holds, in the same order."""
    return tuple(dict.fromkeys(map(_bucket_of(bits).__getitem__, tokens(text.lower()))))


def buckets(text: str, bits: int) -> tuple[int, ...]:
    """The distinct buckets of the lower-cased text's tokens, in a fixed order for a given text
    (the set's, built in the order of first sight: a repeated bucket adds nothing)."""
    return tuple(set(map(_bucket_of(bits).__getitem__, tokens(text.lower()))))


class FeatureMaker:
    """Turns a `RuleReading` (and the query) into `Features`; the prompt's words are hashed once per
    segment (`signals.prompt`: a run sends the same templates with many queries)."""

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self._segments: dict[
            tuple[str, tuple[tuple[int, int, int], ...], int], tuple[tuple[int, ...], int]
        ] = {}
        self._prompts: dict[tuple[str, tuple[tuple[int, int, int], ...]], tuple[int, ...]] = {}

    def signals(self, reading: RuleReading, query: str) -> tuple[float, ...]:
        category = [0.0] * len(CATEGORIES)
        category[CATEGORIES.index(reading.category)] = 1.0
        tiers = {tier for _, spans in reading.prompt_spans for _, _, tier in spans}
        flags = (
            reading.loose,
            reading.strict,
            reading.unsure,
            reading.unsure and reading.loose,
        )
        counts = (
            reading.own_mentions,
            reading.other_mentions,
            reading.strict_mentions,
            reading.role_mentions,
        )
        facts = (
            reading.claims_own,
            reading.persona,
            reading.thinking,
            0 in tiers,
            1 in tiers,
            2 in tiers,
            bool(_CJK.search(query)),
        )
        return (
            *(float(f) for f in flags),
            *category,
            *(math.log1p(c) for c in counts),
            *(float(f) for f in facts),
            math.log1p(len(reading.text)) / 10,
        )

    def text_buckets(self, reading: RuleReading) -> tuple[int, ...]:
        cfg = self.config
        text, spans = reading.text, reading.spans
        if len(text) > cfg.head_chars + cfg.tail_chars:  # bounded work: both ends of a long answer
            cut = len(text) - cfg.tail_chars
            head = [s for s in spans if s[1] <= cfg.head_chars]
            tail = [(a - cut, b - cut, t) for a, b, t in spans if a >= cut]
            body = (
                abstracted(text[: cfg.head_chars], tuple(head)) + " \n " + abstracted(text[cut:], tuple(tail))
            )
        else:
            body = abstracted(text, spans)
        return buckets(body, cfg.text_bits)

    def _segment_words(
        self, text: str, spans: tuple[tuple[int, int, int], ...], limit: int = -1
    ) -> tuple[tuple[int, ...], int]:
        """A prompt segment's distinct word buckets in order of first sight (of its abstracted text
        up to `limit` characters, where >= 0), and the length of its abstracted text (cached:
        segments repeat)."""
        key = (text, spans, limit)
        found = self._segments.get(key)
        if found is None:
            body = abstracted(text, spans)
            words = body if limit < 0 else body[:limit]
            found = (word_buckets(words, self.config.template_bits), len(body))
            if len(self._segments) >= 4096:
                self._segments.clear()
            self._segments[key] = found
        return found

    def template_buckets(
        self, segments: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]
    ) -> tuple[int, ...]:
        """The buckets of the prompt's words, from its segments (`signals.prompt`): the same set, in
        the same order, as `buckets(abstracted(prompt)[:template_chars])` of the prompt
        they make up, each segment hashed once per run."""
        if len(segments) == 1:
            key = segments[0]
            found = self._prompts.get(key)
            if found is None:
                found = self._words_of(segments)
                if len(self._prompts) >= 4096:
                    self._prompts.clear()
                self._prompts[key] = found
            return found
        return self._words_of(segments)

    def _words_of(
        self, segments: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]
    ) -> tuple[int, ...]:
        budget = self.config.template_chars
        seen: list[tuple[int, ...]] = []
        for text, spans in segments:
            words, length = self._segment_words(text, spans)
            if length > budget:  # the prompt's words are read up to `template_chars`
                words = self._segment_words(text, spans, budget)[0]
            seen.append(words)
            budget -= length
            if budget <= 0:
                break
        if len(seen) == 1:
            return tuple(set(seen[0]))
        return tuple(set(chain.from_iterable(seen)))

    def make(self, reading: RuleReading, query: str) -> Features:
        return Features(
            self.signals(reading, query),
            self.text_buckets(reading),
            self.template_buckets(reading.prompt_spans),
        )
