"""Cross-fitting over prompt folds: every answer is scored by a classifier that never saw its prompt.

The prompts (a conversation and all its turns are one group) are split into `folds` groups of
prompts with scikit-learn's `GroupKFold`, shuffled by the seed. For fold k a classifier is trained on the family
answers to the prompts *outside* fold k and scores every answer to the prompts *inside* it: the
test models' answers (to attribute them) and the family members' own (out-of-fold, to check that
the families can be told apart at all). So no answer is ever scored by a model that was fitted
on an answer to the same prompt (whose topic words would otherwise leak into the score), and the
test models' labels are never used: they have none here. `CrossFit.train_groups` records the
prompts each fold's classifier was trained on, so this can be checked (tests do).

`repeats` > 1 repeats the whole cross-fitting with differently shuffled folds and averages each
answer's probabilities over the repeats (repeated cross-fitting): every one of the averaged
probabilities still comes from a classifier that never saw the answer's prompt, and the result
depends much less on how the prompts happened to fall into folds (on MT-bench one split gave an
AUC between 0.933 and 0.958 depending on the seed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from distillscope.errors import UserError
from distillscope.naming import Naming, flag
from distillscope.rse.attribution.features import (
    DEFAULT_FEATURES,
    MAX_FEATURES,
    FeatureSet,
    WordCounts,
    feature_names,
    make_classifier,
    make_vectoriser,
)

DEFAULT_FOLDS = 5
DEFAULT_REPEATS = 3


@dataclass(frozen=True)
class Doc:
    """One answer: its text, the model that wrote it, its prompt group, and its family (if any)."""

    model: str
    group: str
    key: str
    text: str
    family: str | None = None


@dataclass(frozen=True)
class Solution:
    """One fold's fitted classifier over the run's token columns (`WordCounts`): where a later fit
    of the same fold (a family member left out) starts its Newton steps.

    The objective is convex, so the start changes the optimum reached only within the solver's
    tolerance; a member's fit started here takes about a third of the CPU of one started at zero
    (bench/README.md, "Arena-Hard")."""

    counts: WordCounts  # the run's token counts the columns index
    columns: NDArray[np.intp]  # sorted WordCounts columns of the fold's vocabulary
    classes: tuple[str, ...]
    coef: NDArray[np.float64]
    intercept: NDArray[np.float64]

    def start(
        self, model: Any, counts: WordCounts, columns: NDArray[np.intp], classes: Sequence[str]
    ) -> None:
        """Make `model` start from this solution on `columns` of `counts` (a column this fit lacked
        starts at 0); nothing when the classes or the run's counts differ."""
        if tuple(classes) != self.classes or counts is not self.counts:
            return
        at = np.minimum(np.searchsorted(self.columns, columns), max(0, self.columns.size - 1))
        found = self.columns[at] == columns if self.columns.size else np.zeros(columns.size, dtype=bool)
        coef = np.zeros((self.coef.shape[0], columns.size))
        coef[:, found] = self.coef[:, at[found]]
        model.set_params(warm_start=True)
        model.coef_, model.intercept_ = coef, self.intercept.copy()


@dataclass
class CrossFit:
    """Out-of-fold probabilities of every document, one column per family (in `families` order)."""

    families: list[str]
    docs: list[Doc]
    probabilities: NDArray[np.float64]
    fold_of: list[dict[str, int]]  # per repeat: prompt group -> fold
    train_groups: list[list[frozenset[str]]] = field(default_factory=list)  # per repeat, per fold
    solutions: dict[int, Solution] = field(default_factory=dict)  # first repeat's folds (word features)

    def fold(self, doc: Doc, repeat: int = 0) -> int:
        return self.fold_of[repeat][doc.group]

    @property
    def repeats(self) -> int:
        return len(self.fold_of)


class CountedDocs:
    """Every answer of a run tokenised once (`WordCounts`), found again by its `Doc`: the
    cross-fits of one run (the main one and one per left-out member) share it."""

    def __init__(self, docs: Sequence[Doc]) -> None:
        self.index: dict[Doc, int] = {}
        texts: list[str] = []
        for d in docs:
            if d not in self.index:
                self.index[d] = len(texts)
                texts.append(d.text)
        self.counts = WordCounts(texts)

    def covers(self, docs: Sequence[Doc]) -> bool:
        return all(d in self.index for d in docs)

    def rows(self, docs: Sequence[Doc]) -> list[int]:
        return [self.index[d] for d in docs]


def single(x: Any) -> Any:
    """Training features in single precision: the solver's sparse products, most of a run's time,
    take about a third of the CPU of double precision (probabilities move within the solver's
    tolerance). Answers are scored in double precision, so each row's probabilities sum to 1."""
    return x.astype(np.float32)


def assign_folds(groups: Sequence[str], folds: int, seed: int) -> dict[str, int]:
    """Each prompt group to one of `folds` folds (GroupKFold, shuffled with `seed`)."""
    from sklearn.model_selection import GroupKFold

    unique = np.array(sorted(set(groups)))
    if len(unique) < 2:
        raise UserError(f"attribution needs answers to at least 2 prompts to cross-fit, got {len(unique)}")
    n_splits = min(folds, len(unique))
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    out: dict[str, int] = {}
    for k, (_, held) in enumerate(splitter.split(unique, groups=unique)):
        for g in unique[held]:
            out[str(g)] = k
    return out


def crossfit(
    family_docs: Sequence[Doc],
    test_docs: Sequence[Doc],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    features: FeatureSet = DEFAULT_FEATURES,
    repeats: int = DEFAULT_REPEATS,
    counted: CountedDocs | None = None,
    start: CrossFit | None = None,
    naming: Naming = flag,
) -> CrossFit:
    """Out-of-fold family probabilities for the family answers followed by the test answers,
    averaged over `repeats` differently shuffled fold splits. With the "word" features the answers
    are tokenised once (`counted`, built here unless given) and each fold only re-weights them;
    with `start` (a cross-fit of the same run and seed) each fold's fit starts from that fit's
    solution for the fold. `naming`: how a "too few prompts" error names the sample setting."""
    families = sorted({d.family for d in family_docs if d.family is not None})
    if len(families) < 2:
        raise UserError(f"attribution needs at least two families with answers, got {families or 'none'}")
    docs = [*family_docs, *test_docs]
    if features == "word" and (counted is None or not counted.covers(docs)):
        counted = CountedDocs(docs)
    runs = [
        _crossfit_once(
            family_docs,
            test_docs,
            families,
            folds,
            seed + 1000 * r,
            features,
            counted if features == "word" else None,
            start.solutions if start is not None and r == 0 else {},
            naming,
        )
        for r in range(max(1, repeats))
    ]
    return CrossFit(
        families,
        [*family_docs, *test_docs],
        np.mean([p for p, _, _, _ in runs], axis=0),
        [f for _, f, _, _ in runs],
        [t for _, _, t, _ in runs],
        runs[0][3],
    )


def _crossfit_once(
    family_docs: Sequence[Doc],
    test_docs: Sequence[Doc],
    families: list[str],
    folds: int,
    seed: int,
    features: FeatureSet,
    counted: CountedDocs | None = None,
    starts: Mapping[int, Solution] | None = None,
    naming: Naming = flag,
) -> tuple[NDArray[np.float64], dict[str, int], list[frozenset[str]], dict[int, Solution]]:
    docs = [*family_docs, *test_docs]
    rows = counted.rows(docs) if counted is not None else []
    fold_of = assign_folds([d.group for d in docs], folds, seed)
    n_folds = max(fold_of.values()) + 1
    probabilities = np.full((len(docs), len(families)), np.nan)
    labels = np.array([d.family or "" for d in family_docs])
    doc_folds = np.array([fold_of[d.group] for d in docs])
    train_groups: list[frozenset[str]] = []
    solutions: dict[int, Solution] = {}
    for k in range(n_folds):
        train = [int(i) for i in np.flatnonzero(doc_folds[: len(family_docs)] != k)]
        present = set(labels[train])
        if present != set(families):
            absent = ", ".join(sorted(set(families) - present))
            raise UserError(
                f"too few prompts to cross-fit: fold {k + 1} of {n_folds} has no training answers of "
                f"family {absent}; use more prompts ({naming('sample')})"
            )
        model = make_classifier(seed)
        scored = [int(i) for i in np.flatnonzero(doc_folds == k)]
        if counted is not None:
            fold = counted.counts.fold([rows[i] for i in train], MAX_FEATURES)
            if starts and k in starts:
                starts[k].start(model, counted.counts, fold.keep, sorted(set(labels[train])))
            model.fit(single(fold.rows([rows[i] for i in train])), labels[train])
            scored_x = fold.rows([rows[i] for i in scored]) if scored else None
            solutions[k] = Solution(
                counted.counts,
                fold.keep,
                tuple(model.classes_),
                np.array(model.coef_),
                np.array(model.intercept_),
            )
        else:
            vectoriser = make_vectoriser(features)
            model.fit(single(vectoriser.fit_transform([family_docs[i].text for i in train])), labels[train])
            scored_x = vectoriser.transform([docs[i].text for i in scored]) if scored else None
        order = [list(model.classes_).index(f) for f in families]
        train_groups.append(frozenset(family_docs[i].group for i in train))
        if scored_x is not None:
            probabilities[scored] = model.predict_proba(scored_x)[:, order]
    return probabilities, fold_of, train_groups, solutions


def telling_features(
    family_docs: Sequence[Doc],
    *,
    top: int = 15,
    seed: int = 0,
    features: FeatureSet = DEFAULT_FEATURES,
    counted: CountedDocs | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The features that most raise each family's score, from one fit on all family answers.

    This fit is for reading only (evidence): it scores nothing.
    """
    families = sorted({d.family for d in family_docs if d.family is not None})
    model = make_classifier(seed)
    labels = [d.family for d in family_docs]
    if features == "word" and counted is not None and counted.covers(family_docs):
        fold = counted.counts.fold(counted.rows(family_docs), MAX_FEATURES)  # the run's tokens, once
        model.fit(single(fold.rows(counted.rows(family_docs))), labels)
        names = fold.names()
    else:
        vectoriser = make_vectoriser(features)
        model.fit(single(vectoriser.fit_transform([d.text for d in family_docs])), labels)
        names = feature_names(vectoriser)
    coef = np.asarray(model.coef_, dtype=float)
    classes = list(model.classes_)
    out: dict[str, list[dict[str, Any]]] = {}
    for family in families:
        if coef.shape[0] == 1:  # binary: one row, positive towards classes_[1]
            weights = coef[0] if classes.index(family) == 1 else -coef[0]
        else:
            weights = coef[classes.index(family)]
        best = np.argsort(-weights)[:top]
        out[family] = [{"feature": names[i], "weight": round(float(weights[i]), 4)} for i in best]
    return out
