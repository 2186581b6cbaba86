"""Style: a fingerprint of how an answer is formatted and phrased, independent of what it says.

The fingerprint is a fixed vector of shape features (length, paragraphs, markdown headings, lists,
bold, code, tables, sentence length and its spread, questions, exclamations, first/second person)
plus the answer's opener (its first words) and closer (the first words of its last sentence).
Style similarity of two answers is

    0.8 * mean_f exp(-|a_f - b_f| / scale_f)  +  0.1 * opener match  +  0.1 * closer match

with the count features compared on a log1p scale, so "3 list items vs 4" differs less than
"0 vs 1". Identical answers give 1. Two plain paragraphs of prose have a similar style by design;
an answer in markdown sections and lists differs from a one-line reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FEATURES = (
    "log_chars",
    "paragraphs",
    "headings",
    "numbered",
    "bullets",
    "bold",
    "code_blocks",
    "inline_code",
    "table_rows",
    "sentence_words",
    "sentence_spread",
    "questions",
    "exclamations",
    "first_person",
    "second_person",
)
# How far apart two values may be before the feature counts as half different (exp(-1) ~ 0.37).
SCALES = np.array([0.7, 0.8, 0.6, 0.8, 0.8, 0.7, 0.5, 0.7, 0.7, 8.0, 6.0, 0.5, 0.5, 0.6, 0.6])
_LOG_FEATURES = np.array([f not in ("log_chars", "sentence_words", "sentence_spread") for f in FEATURES])

_HEADING = re.compile(r"^\s{0,3}(#{1,6}\s+\S|\*\*[^*\n]{1,80}\*\*:?\s*$|[A-Z][^.!?\n]{0,60}:\s*$)", re.M)
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+\S", re.M)
_BULLET = re.compile(r"^\s*[-*•+]\s+\S", re.M)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_FENCE = re.compile(r"^\s*```", re.M)
_INLINE_CODE = re.compile(r"(?<!`)`[^`\n]+`(?!`)")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.M)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W_]+", re.U)
_FIRST = re.compile(r"\b(i|me|my|mine|we|our|us)\b", re.I)
_SECOND = re.compile(r"\b(you|your|yours)\b", re.I)
_MARKUP = re.compile(r"^[\s#>*\-+•|`\d.)]+")


def sentences(text: str) -> list[str]:
    """Sentences and lines, markup stripped from their start."""
    parts = (_MARKUP.sub("", s).strip() for s in _SENTENCE_SPLIT.split(text))
    return [p for p in parts if p]


def _lead(sentence: str, n: int = 2) -> str:
    return " ".join(w.lower() for w in _WORD.findall(sentence)[:n])


@dataclass(frozen=True)
class StyleProfile:
    """The fingerprint of one answer."""

    vector: NDArray[np.float64]
    opener: str
    closer: str


def profile(text: str) -> StyleProfile:
    sents = sentences(text)
    lengths = np.array([len(_WORD.findall(s)) for s in sents], dtype=float) if sents else np.zeros(1)
    words = max(1, int(lengths.sum()))
    raw = np.array(
        [
            np.log1p(len(text)),
            len([p for p in re.split(r"\n\s*\n", text) if p.strip()]),
            len(_HEADING.findall(text)),
            len(_NUMBERED.findall(text)),
            len(_BULLET.findall(text)),
            len(_BOLD.findall(text)),
            len(_FENCE.findall(text)) // 2,
            len(_INLINE_CODE.findall(text)),
            len(_TABLE_ROW.findall(text)),
            float(lengths.mean()),
            float(lengths.std()),
            text.count("?"),
            text.count("!"),
            100.0 * len(_FIRST.findall(text)) / words,
            100.0 * len(_SECOND.findall(text)) / words,
        ],
        dtype=float,
    )
    vector = np.where(_LOG_FEATURES, np.log1p(raw), raw)
    return StyleProfile(vector, _lead(sents[0]) if sents else "", _lead(sents[-1]) if sents else "")


def profiles_matrix(profiles: Sequence[StyleProfile]) -> NDArray[np.float64]:
    return np.stack([p.vector for p in profiles]) if profiles else np.zeros((0, len(FEATURES)))


def style_similarity(a: Sequence[StyleProfile], b: Sequence[StyleProfile]) -> NDArray[np.float64]:
    """Row-wise similarity in [0, 1] of two equally long lists of profiles (vectorised)."""
    va, vb = profiles_matrix(a), profiles_matrix(b)
    shape: NDArray[np.float64] = np.exp(-np.abs(va - vb) / SCALES).mean(axis=1)
    opener = np.array([float(x.opener == y.opener and x.opener != "") for x, y in zip(a, b, strict=True)])
    closer = np.array([float(x.closer == y.closer and x.closer != "") for x, y in zip(a, b, strict=True)])
    return 0.8 * shape + 0.1 * opener + 0.1 * closer


def style_differences(a: StyleProfile, b: StyleProfile, top: int = 3) -> list[str]:
    """The features that differ most, for the evidence line."""
    gap = np.abs(a.vector - b.vector) / SCALES
    order = np.argsort(-gap)[:top]
    return [FEATURES[i] for i in order if gap[i] > 0.5]
