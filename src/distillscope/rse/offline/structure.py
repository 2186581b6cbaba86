"""Logical structure: how an answer is organised, as a sequence of blocks and of steps.

An answer is split into blocks, each typed as heading / numbered item / bullet item / code /
table / paragraph. Structure similarity of two answers is `order * (0.5 + 0.5 * layout)` with

- layout: difflib's ratio of the two block-type sequences (the same sections in the same order);
- order: the steps (list items, else paragraphs, else sentences) of each answer are matched to the
  other's by word overlap (a match needs Jaccard >= 0.2); the length of the longest run of matches
  kept in the same order (longest increasing subsequence), over the longer step count. Two answers
  that make the same steps in the same order score 1; the same steps shuffled score lower.

Both parts are in [0, 1] and identical answers give 1. Order gates the score: two answers laid out
alike whose steps do not correspond (unrelated answers, both one paragraph) share no logic and score
0; the same steps in another layout (prose instead of a numbered list) keep at least half.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from distillscope.rse.offline.style import sentences

_WORD = re.compile(r"[^\W_]+", re.U)
_KINDS = (
    ("H", re.compile(r"^\s{0,3}(#{1,6}\s|\*\*[^*\n]{1,80}\*\*:?\s*$)")),
    ("N", re.compile(r"^\s*\d{1,3}[.)]\s")),
    ("B", re.compile(r"^\s*[-*•+]\s")),
    ("T", re.compile(r"^\s*\|")),
)
MATCH_JACCARD = 0.2
MAX_STEPS = 500  # steps per answer that are matched (real answers have far fewer); bounds the work
MAX_BLOCKS = 2_000  # blocks per answer whose layout is compared


@dataclass(frozen=True)
class Outline:
    """Block types in order, and the word sets of the answer's steps."""

    layout: str
    steps: tuple[frozenset[str], ...]


def outline(text: str) -> Outline:
    blocks: list[tuple[str, str]] = []  # (kind, text); consecutive prose lines form one paragraph
    in_code, after_blank = False, True
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            if not in_code:
                blocks.append(("C", ""))
            in_code, after_blank = not in_code, False
            continue
        if in_code:
            continue
        if not stripped:
            after_blank = True
            continue
        kind = next((k for k, rx in _KINDS if rx.match(line)), "P")
        if kind == "P" and not after_blank and blocks and blocks[-1][0] == "P":
            blocks[-1] = ("P", f"{blocks[-1][1]} {stripped}")
        else:
            blocks.append((kind, stripped))
        after_blank = False
    items = [t for k, t in blocks if k in ("N", "B")]
    texts = [t for k, t in blocks if k != "C"]
    units = items if len(items) >= 2 else texts if len(texts) >= 2 else sentences(text)
    steps = tuple(frozenset(w.lower() for w in _WORD.findall(u)) for u in units)
    return Outline("".join(k for k, _ in blocks), tuple(s for s in steps if s))


def _lis_length(seq: Sequence[int]) -> int:
    tails: list[int] = []
    for x in seq:
        i = bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)


def order_similarity(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]]) -> float:
    """Matched steps kept in order, over the longer step count.

    Each step of `a` is matched to the unused step of `b` with the highest Jaccard (>= 0.2; ties:
    the later one). Candidates come from a prefix-filter index (sets sorted rarest word first; two
    sets with Jaccard >= t share a word among the first |s| - ceil(t|s|) + 1 of each), so the
    matching is not all pairs of steps: a 4,000-sentence answer took 20 s, quadratically. The
    result is exactly that of comparing all pairs. Only the first MAX_STEPS steps of each answer
    are matched (real answers have far fewer), which bounds the work on a runaway answer."""
    if not a or not b:
        return 1.0 if not a and not b else 0.0
    a, b = a[:MAX_STEPS], b[:MAX_STEPS]
    freq = Counter(w for step in (*a, *b) for w in step)

    def prefix(step: frozenset[str]) -> list[str]:
        words = sorted(step, key=lambda w: (freq[w], w))
        return words[: len(words) - math.ceil(MATCH_JACCARD * len(words) - 1e-9) + 1]

    index: dict[str, list[int]] = defaultdict(list)
    for j, other in enumerate(b):
        for word in prefix(other):
            index[word].append(j)
    matches: list[int] = []
    used: set[int] = set()
    for step in a:
        candidates = sorted({j for word in prefix(step) for j in index.get(word, ())} - used)
        best, best_j = MATCH_JACCARD, -1
        for j in candidates:
            other = b[j]
            jac = len(step & other) / len(step | other)
            if jac >= best:
                best, best_j = jac, j
        if best_j >= 0:
            used.add(best_j)
            matches.append(best_j)
    return _lis_length(matches) / max(len(a), len(b))


def structure_similarity(a: Outline, b: Outline) -> float:
    # difflib is quadratic in the worst case: the layout is compared over its first MAX_BLOCKS blocks
    la, lb = a.layout[:MAX_BLOCKS], b.layout[:MAX_BLOCKS]
    layout = SequenceMatcher(None, la, lb, autojunk=False).ratio() if la or lb else 1.0
    return order_similarity(a.steps, b.steps) * (0.5 + 0.5 * layout)
