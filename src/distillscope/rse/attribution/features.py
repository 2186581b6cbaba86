"""The text classifier of teacher attribution: which family's answers does an answer resemble?

Features are TF-IDF weighted n-grams of *writing*, not only of words: tokens are words with their
case kept, every punctuation mark, and a token for each line break, so "**Step 1:**", "Sure!" and
a list's rhythm of short lines are features alongside the vocabulary. `char` adds character
2-4-grams; `style` adds the offline judge's style fingerprint (rse/offline/style.py: lengths,
lists, headings, code, person), standardised. The classifier is an L2-regularised logistic
regression with balanced class weights (a family with more models or answers gets no higher
prior). Measured on MT-bench (bench/rse_provenance.py) the word features alone ranked best; the
other sets are kept selectable for that measurement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

FeatureSet = Literal["word", "word+char", "word+style", "word+char+style"]
FEATURE_SETS: tuple[FeatureSet, ...] = ("word", "word+char", "word+style", "word+char+style")
DEFAULT_FEATURES: FeatureSet = "word"
# Chosen on real answers only (Arena-Hard v0.1, a 16-model dev bank, each model held out of the bank
# in turn, one fold split: is the family its writing resembles most its vendor?), never on the report
# bank (bench/README.md, "Arena-Hard"). Rule: most vendors named, then the lowest log-loss of the own
# family. Vendors named of 16 (log-loss): C = 100 with 50,000 n-grams 11 (0.878); C = 0.1 / 1 / 10
# with 50,000 12 (1.372 / 1.055 / 0.913); C = 1 / 10 with 5,000 12 (0.962 / 0.842); C = 10 with 1,000
# 12 (0.805); C = 10 / 30 with 2,000 13 (0.820 / 0.807). Weighting each model equally within its
# family is what balanced classes already do when every model answers every prompt, as in a bank.
# (MT-bench, with every n-gram, had preferred C = 100 over C = 10: 0.966 vs 0.941 AUC.)
REGULARISATION_C = 30.0
# The word vocabulary keeps the most frequent n-grams of a fold's training answers (scikit-learn's
# `max_features`): the words, punctuation and markup every model uses, where a vendor's shared habits
# show, rather than the rare n-grams a single model's quirks live in. It is also most of the speed:
# Arena-Hard's long answers give a 15-model bank about 200,000 word n-grams with min_df 2 per fold,
# and newton-cg's cost grows with the columns (13.5 CPU-s a fit with all of them). The size was chosen
# on both method-choice sets, never on a report set: the Arena-Hard dev bank named 13 of 16 vendors
# with 2,000 and 12 with 20,000 (one model), while MT-bench's split A (~18,000 n-grams a fold, so
# 20,000 keeps them all) ranked OpenAI-trained models at AUC 0.750 with 2,000 and 0.875 with 20,000.
# The larger cap loses one dev model and keeps MT-bench whole.
MAX_FEATURES = 20_000

_TOKEN = re.compile(r"\w+|[^\w\s]|\n", re.U)
NEWLINE = "⏎"


def writing_tokens(text: str) -> list[str]:
    """Words (case kept), punctuation marks, and one token per line break."""
    return [NEWLINE if t == "\n" else t for t in _TOKEN.findall(text)]


def style_matrix(texts: Sequence[str]) -> NDArray[np.float64]:
    from distillscope.rse.offline.style import profile

    return np.stack([profile(t).vector for t in texts]) if texts else np.zeros((0, 15))


def feature_names(vectoriser: Any) -> list[str]:
    """Readable names of the fitted vectoriser's columns (`word:`, `char:`, `style:` prefixed)."""
    from distillscope.rse.offline.style import FEATURES

    names: list[str] = []
    for name, part in vectoriser.transformer_list:
        if name == "style":
            names += [f"style:{f}" for f in FEATURES]
        else:
            names += [f"{name}:{n}" for n in part.get_feature_names_out()]
    return names


def make_vectoriser(features: FeatureSet = DEFAULT_FEATURES) -> Any:
    """The (unfitted) feature union for one feature set."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    parts: list[tuple[str, Any]] = [
        (
            "word",
            TfidfVectorizer(
                tokenizer=writing_tokens,
                token_pattern=None,
                lowercase=False,
                ngram_range=(1, 2),
                sublinear_tf=True,
                min_df=2,
                max_features=MAX_FEATURES,
            ),
        )
    ]
    if "char" in features:
        parts.append(
            (
                "char",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=(2, 4),
                    lowercase=False,
                    sublinear_tf=True,
                    min_df=3,
                    max_features=100_000,
                ),
            )
        )
    if "style" in features:
        parts.append(("style", make_pipeline(FunctionTransformer(style_matrix), StandardScaler())))
    return FeatureUnion(_cached(parts))


def _cached(parts: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """With a feature cache active (featurecache.using), each part analyses an answer once."""
    from functools import partial

    from distillscope.rse.attribution import featurecache

    cache = featurecache.active()
    if cache is None:
        return parts
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    out: list[tuple[str, Any]] = []
    for name, part in parts:
        if isinstance(part, TfidfVectorizer):
            out.append((name, featurecache.CachedTfidf(part, featurecache.part_key(name, part), cache)))
        elif name == "style":
            styles = FunctionTransformer(partial(_cached_styles, cache))
            out.append((name, make_pipeline(styles, StandardScaler())))
        else:
            out.append((name, part))
    return out


def _cached_styles(cache: Any, texts: Sequence[str]) -> NDArray[np.float64]:
    from distillscope.rse.offline.style import profile

    if not len(texts):
        return np.zeros((0, 15))
    return np.asarray(cache.vectors("style:v1", lambda t: profile(t).vector, list(texts)), dtype=np.float64)


class WordCounts:
    """The writing n-gram counts of every answer, tokenised once for the whole run.

    A `TfidfVectorizer` fitted per fold re-tokenises every answer in every fold, repeat and left-out
    member (on MT-bench about 70% of the attribution's time). The counts do not depend on the fold:
    only the vocabulary (n-grams in at least `MIN_DF` training answers) and the idf do, and both are
    computed from the counts of the fold's training rows. `fold` gives exactly the matrix the
    "word" feature set's vectoriser would give when fitted on those rows (same columns, same order).
    """

    MIN_DF = 2

    def __init__(self, texts: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        vectoriser = CountVectorizer(
            tokenizer=writing_tokens, token_pattern=None, lowercase=False, ngram_range=(1, 2)
        )
        self.matrix: Any = vectoriser.fit_transform(texts).tocsr() if texts else None
        self.vocabulary: NDArray[np.str_] = (
            vectoriser.get_feature_names_out() if texts else np.array([], dtype=str)
        )
        self._present: Any = None

    def fold(self, train: Sequence[int], max_features: int | None = None) -> WordFold:
        """The TF-IDF of a fold fitted on the answers at rows `train` (indices into the texts),
        keeping the `max_features` most frequent n-grams as `TfidfVectorizer(max_features=)` does.
        Document and term frequencies are one product each with the run's transposed counts (no
        copy of the fold's rows: on Arena-Hard that copy was a fifth of a run's time)."""
        rows = np.asarray(train, dtype=np.int64)
        weight = np.bincount(rows, minlength=self.matrix.shape[0]).astype(
            np.int64
        )  # a row twice counts twice
        if self._present is None:
            self._present = self.matrix.copy()
            self._present.data = np.ones_like(self._present.data)
        df = np.asarray(self._present.T @ weight).ravel()
        keep = np.flatnonzero(df >= self.MIN_DF)
        if max_features is not None and keep.size > max_features:
            # scikit-learn's _limit_features, on the same arrays in the same (sorted) column order
            tfs = np.asarray(self.matrix.T @ weight).ravel()
            keep = np.sort(keep[(-tfs[keep]).argsort()[:max_features]])
        n = rows.size
        idf = np.log((1 + n) / (1 + df[keep])) + 1.0  # TfidfVectorizer's smooth idf
        return WordFold(self, keep, idf)


class WordFold:
    """One fold's vocabulary and idf over the run's `WordCounts`; `rows` transforms answers."""

    def __init__(self, counts: WordCounts, keep: NDArray[np.intp], idf: NDArray[np.float64]) -> None:
        self.counts, self.keep, self.idf = counts, keep, idf
        self.column = np.full(counts.matrix.shape[1], -1, dtype=np.int64)  # run column -> fold column
        self.column[keep] = np.arange(keep.size)

    def rows(self, indices: Sequence[int]) -> Any:
        from scipy.sparse import csr_matrix
        from sklearn.preprocessing import normalize

        x = self.counts.matrix[np.asarray(indices, dtype=int)]
        # the fold's columns, picked by remapping the row slice's indices (kept in order: keep is sorted)
        column = self.column[x.indices]
        kept = column >= 0
        row_of = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of[kept], minlength=x.shape[0]))])
        column = column[kept]
        data = (np.log(x.data[kept].astype(np.float64)) + 1.0) * self.idf[column]  # sublinear tf x idf
        out = csr_matrix((data, column, indptr), shape=(x.shape[0], self.keep.size))
        return normalize(out, norm="l2", copy=False)

    def names(self) -> list[str]:
        return [f"word:{n}" for n in self.counts.vocabulary[self.keep]]


def make_classifier(seed: int = 0) -> Any:
    from sklearn.linear_model import LogisticRegression

    # newton-cg: the same objective as lbfgs, about 3x faster on these sparse features (0.66 vs 2.2 CPU-s)
    return LogisticRegression(
        C=REGULARISATION_C, solver="newton-cg", max_iter=1000, class_weight="balanced", random_state=seed
    )
