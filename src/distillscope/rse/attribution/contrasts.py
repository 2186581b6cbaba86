"""F's writing against independent writing: the classifiers behind the "distilled from" decision.

The families-only classifier answers "openai or anthropic or google?", and on that axis every 2023
open model leans to ChatGPT. The question of a decision is another one: does X write like F *rather
than like an independent model*? So for each family F and each set E of left-out controls a binary
classifier C_{F,E} is trained on F's members' answers (class 1) against the answers of the controls
not in E (class 0), with balanced class weights (neither side's number of models or answers sets a
prior), and cross-fitted over prompt groups (GroupKFold, as crossfit.py): an answer is scored only
by a classifier that never saw its prompt. Test models' answers never train anything, nor do the
controls in E, so a test model and a left-out control are both unseen by C_{F,E}.

E = {c} for every control c scores the test models and c; E = {c, c'} scores c and c' (the
controls' own false-positive check, where c plays the test model). Every fit shares the run's
tokenisation (`CountedDocs`); a fold's vocabulary and idf are fitted on the *family* answers to its
training prompts only (no control, no test), so one TF-IDF matrix per fold serves every classifier
of that fold and treats a test model and a left-out control alike. With n controls and k families
that is folds x k x (n + n(n-1)/2) small binary fits (liblinear), a fold's fits shared among forked
worker processes where that is safe (`can_fork`), with the same scores as in one process.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray

from distillscope.engine.cores import ignore_sigint, usable_cores
from distillscope.rse.attribution.crossfit import DEFAULT_FOLDS, CountedDocs, Doc, assign_folds

# Weak L2, as the families classifier (features.REGULARISATION_C). Chosen on split A only
# (bench/README.md): C = 1 / 10 / 100 gave the split's OpenAI-trained tests one-sided p < 0.05 (before
# Holm) for 1 / 2 / 2 of 8, the strongest at C = 100 (vicuna-33b 1e-4 vs 7e-4 and 4e-3), and none of
# its 3 controls below 0.05 at any C. liblinear's dual solver: many more features than answers, so
# the dual is about 5x faster than the primal here (probabilities within 1e-3 of it).
CONTRAST_C = 100.0
DUAL = True
MAX_ITER = 1000
TOL = 1e-2


MAX_WORKERS = 4  # processes for a fold's fits


def default_workers() -> int:
    """The CPUs this process may run on, at most `MAX_WORKERS`."""
    return max(1, min(MAX_WORKERS, usable_cores()))


def can_fork() -> bool:
    """Whether worker processes may be forked: on Linux (macOS's system libraries are not safe to use
    after a fork), in a process that runs one thread (a fork copies only the calling thread, so a
    lock another thread held would stay held)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


@dataclass(frozen=True)
class ContrastScores:
    """Per (family, left-out controls): each scored model's mean P(F rather than independent) per prompt."""

    families: list[str]
    controls: list[str]
    by_fit: Mapping[tuple[str, frozenset[str]], Mapping[str, Mapping[str, float]]]
    n_fits: int
    processes: int = 1  # how many processes fitted them

    def prompts(self, family: str, left_out: frozenset[str], model: str) -> Mapping[str, float]:
        return self.by_fit[(family, left_out)][model]


def left_out_sets(controls: Sequence[str], *, pairs: bool) -> list[frozenset[str]]:
    """Each control alone (a test model's contrasts) and, with `pairs`, each pair (a control's own check)."""
    sets = [frozenset([c]) for c in controls]
    return sets + ([frozenset(p) for p in combinations(controls, 2)] if pairs else [])


def fit_contrasts(
    family_docs: Sequence[Doc],
    control_docs: Mapping[str, Sequence[Doc]],
    test_docs: Mapping[str, Sequence[Doc]],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    counted: CountedDocs | None = None,
    pairs: bool = True,
    workers: int | None = None,
) -> ContrastScores:
    """Cross-fitted P(F rather than independent) of every test model and left-out control. A fold's
    fits run in `workers` forked processes (default: the CPUs this process may use, at most
    `MAX_WORKERS`) where forking is safe (`can_fork`), else here; the scores are the same."""
    families = sorted({d.family for d in family_docs if d.family is not None})
    controls = list(control_docs)
    tests = [d for docs in test_docs.values() for d in docs]
    everyone = [*family_docs, *(d for docs in control_docs.values() for d in docs), *tests]
    if counted is None or not counted.covers(everyone):
        counted = CountedDocs(everyone)
    fold_of = assign_folds([d.group for d in everyone], folds, seed)
    n_folds = max(fold_of.values()) + 1
    owners: dict[str, list[Doc]] = {
        **{f"family:{f}": [d for d in family_docs if d.family == f] for f in families},
        **{c: list(docs) for c, docs in control_docs.items()},
        **{m: list(docs) for m, docs in test_docs.items()},
    }
    folds_of = {k: np.array([fold_of[d.group] for d in docs]) for k, docs in owners.items()}
    rows_of = {k: np.asarray(counted.rows(docs), dtype=int) for k, docs in owners.items()}
    sets = left_out_sets(controls, pairs=pairs)
    probs: dict[tuple[str, frozenset[str]], dict[str, NDArray[np.float64]]] = {
        (f, e): {m: np.full(len(owners[m]), np.nan) for m in [*e, *(test_docs if len(e) == 1 else [])]}
        for f in families
        for e in sets
    }
    n_fits = 0
    family_rows = np.concatenate([rows_of[f"family:{f}"] for f in families])
    family_folds = np.concatenate([folds_of[f"family:{f}"] for f in families])
    tasks = list(probs)
    processes = workers if workers is not None else default_workers()
    processes = processes if processes > 1 and len(tasks) > 1 and can_fork() else 1
    global _FOLD
    for k in range(n_folds):
        fold = counted.counts.fold(family_rows[family_folds != k].tolist())
        held = {m: np.flatnonzero(folds_of[m] == k) for m in owners}
        _FOLD = _Fold(
            x={m: fold.rows(rows_of[m].tolist()) for m in owners},
            train={m: folds_of[m] != k for m in owners},
            held=held,
            controls=controls,
            scored={key: list(scored) for key, scored in probs.items()},
            seed=seed,
        )
        try:
            if processes > 1:
                # Forked workers read the fold from memory they share with this process (nothing is
                # pickled but the scores); each fit seeds liblinear's generator itself, so the scores
                # are those of one process. Not threads: that generator is global, and threads would
                # make the fits' order, and so their results, depend on timing.
                # Ctrl-C is the parent's to answer (`ignore_sigint`).
                with multiprocessing.get_context("fork").Pool(processes, initializer=ignore_sigint) as pool:
                    results = pool.map(_fit_one, tasks, chunksize=max(1, len(tasks) // (4 * processes)))
            else:
                results = [_fit_one(task) for task in tasks]
        finally:
            _FOLD = None
        for task, (fitted, scores) in zip(tasks, results, strict=True):
            n_fits += fitted
            for m, values in scores.items():
                probs[task][m][held[m]] = values
    by_fit = {
        key: {m: _prompt_means(values, owners[m]) for m, values in scored.items()}
        for key, scored in probs.items()
    }
    return ContrastScores(families, controls, by_fit, n_fits, processes)


@dataclass(frozen=True)
class _Fold:
    """One fold's matrices (every owner's rows), which rows train, which are scored, and by what."""

    x: Mapping[str, Any]
    train: Mapping[str, NDArray[np.bool_]]
    held: Mapping[str, NDArray[np.intp]]
    controls: Sequence[str]
    scored: Mapping[tuple[str, frozenset[str]], Sequence[str]]
    seed: int


_FOLD: _Fold | None = None  # the fold being fitted (set before its workers are forked)


def _fit_one(task: tuple[str, frozenset[str]]) -> tuple[int, dict[str, NDArray[np.float64]]]:
    """Fit C_{F,E} on the current fold; (1, the held-out answers' P(F) per scored model), or (0, {})
    where the fold has nothing of one side to learn from (its prompts stay unscored)."""
    from scipy.sparse import vstack
    from sklearn.linear_model import LogisticRegression

    fold = _FOLD
    assert fold is not None
    family, left_out = task
    positive = fold.x[f"family:{family}"][fold.train[f"family:{family}"]]
    negatives = [fold.x[c][fold.train[c]] for c in fold.controls if c not in left_out]
    if positive.shape[0] == 0 or sum(n.shape[0] for n in negatives) == 0:
        return 0, {}
    features = vstack([positive, *negatives])
    labels = np.r_[np.ones(positive.shape[0]), np.zeros(features.shape[0] - positive.shape[0])]
    model = LogisticRegression(
        C=CONTRAST_C,
        solver="liblinear",
        dual=DUAL,
        class_weight="balanced",
        tol=TOL,
        max_iter=MAX_ITER,
        random_state=fold.seed,
    )
    model.fit(features, labels)
    scores: dict[str, NDArray[np.float64]] = {}
    for m in fold.scored[task]:
        held = fold.held[m]
        if held.size:
            scores[m] = model.predict_proba(fold.x[m][held])[:, 1]
    return 1, scores


def _prompt_means(values: NDArray[np.float64], docs: Sequence[Doc]) -> dict[str, float]:
    """A model's answer probabilities averaged per prompt group (turns averaged); unscored ones skipped."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for value, doc in zip(values, docs, strict=True):
        if np.isfinite(value):
            sums[doc.group] = sums.get(doc.group, 0.0) + float(value)
            counts[doc.group] = counts.get(doc.group, 0) + 1
    return {g: sums[g] / counts[g] for g in sums}
