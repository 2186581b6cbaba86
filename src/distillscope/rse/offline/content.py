"""Content: whether two answers say the same things.

- lexical: F1 overlap of word unigrams and bigrams (multiset counts, so repetition counts once per
  occurrence), averaged; works for any language (CJK characters count as words) and needs nothing.
- embedding: cosine of sentence embeddings (see `embed.py`), when the `embed` extra is installed.

The judge's content score is the mean of the two (each on 1-5) where embeddings are available, else
the lexical score alone, and the evidence says which. all-MiniLM-L6-v2 is English-centric: when
this was written, on Chinese ShareGPT answers an unrelated pair reached cosine ~0.42 (English
MT-bench: ~0.13) and it told a question's own answer from another's with ROC AUC 0.79 (English:
0.99); a check not recorded in bench/README.md. So for pairs where
either text is mostly CJK (`mostly_cjk`) the content score uses the lexical measure only; the
cosine is still kept in `raw` for inspection.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+", re.U)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
CJK_SHARE = 0.3


def mostly_cjk(text: str) -> bool:
    """True when at least CJK_SHARE of the tokens are CJK characters: the English-centric embedding
    model is not trusted there (unrelated Chinese answers reach a MiniLM cosine of about 0.4)."""
    words = _TOKEN.findall(text)
    return bool(words) and sum(1 for w in words if _CJK.fullmatch(w)) >= CJK_SHARE * len(words)


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def ngram_counts(words: list[str]) -> tuple[Counter[str], Counter[str]]:
    return Counter(words), Counter(f"{a} {b}" for a, b in pairwise(words))


def _f1(a: Counter[str], b: Counter[str]) -> float:
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(b.values()), common / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def lexical_similarity(a: tuple[Counter[str], Counter[str]], b: tuple[Counter[str], Counter[str]]) -> float:
    """Mean of unigram and bigram F1, in [0, 1]."""
    return 0.5 * (_f1(a[0], b[0]) + _f1(a[1], b[1]))
