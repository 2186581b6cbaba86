"""Training the scorer (build time only: scikit-learn and the shared data are needed here, never
when judging).

Data, and how each part is used:
- statements composed from the rubric's kinds (`synthetic.py`): a few hundred short rows at a low
  weight, so the scorer also sees the kinds the paper's answers hardly contain (a claim reported,
  quoted, asked back or supposed; a contrast beside the true maker);
- `paper-ice-labels.jsonl`: the paper's GPT-4o-mini labels of 8,673 answers, noisy but many: the
  bulk of the training rows (weight 1; `PAPER_STRICT_WEIGHT` in the strict head). Rows of the two
  incomplete runs are left out (only their loose positives survive, so their labels say nothing
  about what a negative looks like), and so are
  qwen2.5-72b-instruct's strict labels (a copy of its loose file: all 0).
- audited labels (`ice-gold/dev-gold.jsonl`, the `AUDIT_FILES` in `bench/data`): replace the paper's
  label of their rows, weighted up (`GOLD_WEIGHT`); the ones drawn from ice-gold's weighted strata also
  calibrate the scorer, each weighted by its stratum's share of the population.

Calibration is cross-fitted: the logits it is fitted on come from scorers trained without the
calibration rows' models (`FOLDS` folds of whole models), so it corrects out-of-model confidence.
The same cross-fitted probabilities of every answer of those models measure how far a run's expected
loose rate moves between models (`transfer`: the spread shipped with the loose head, which widens
the expected rate of a model the judge was not built from; scoring.py).
`leave_one_model_out` repeats the whole build without each model in turn: the honest accuracy.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.calibration import fit_platt, rate_logit
from distillscope.ice.judges.signals.features import (
    SIGNALS,
    STRICT_MENTIONS,
    FeatureConfig,
    FeatureMaker,
    Features,
)
from distillscope.ice.judges.signals.reader import RuleReader
from distillscope.ice.judges.synthetic import statements
from distillscope.ice.judges.weights import HEADS, Head, ScorerWeights, Transfer
from distillscope.ice.templates import fill_template
from distillscope.ice.types import JudgeItem

# An audited label counts as this many of the paper's noisy ones (those are right ~89% of the time:
# ice-gold/README.md). Chosen between 5 and 10 by leave-one-model-out accuracy (bench/README.md).
GOLD_WEIGHT = 10.0
# The paper's strict labels are the noisier ones (0.951 right on ice-gold; they count another vendor's policy as
# loose only, for one), so in the strict head each weighs this much (audited rows keep GOLD_WEIGHT). Tried at
# 0.1 in round 5 (nothing fell; rejected by a margin), adopted in round 7 by a rule fixed before the run
# (bench/README.md, "Judge round 7").
PAPER_STRICT_WEIGHT = 0.1
C = 1.0  # inverse L2 strength of the logistic regression
MIN_DF = 3  # a hashed bucket is used only if this many training answers have it
FOLDS = 3  # model folds of the cross-fitted calibration
# An audit drawn by round from a model's paper positives and negatives (`R4-P`, `R12-N`): random within each.
ROUND_STRATUM = re.compile(r"R[0-9]+-[PN]")
DOUBT = (0.2, 0.8)  # p_loose inside this band: the verdict is unsure (1 in 5 or more to be wrong)
STRICT_LABEL_BROKEN = frozenset({"qwen2.5-72b-instruct"})
# Statements composed from the rubric's kinds (synthetic.py): how many, their seed, and what each weighs (a
# paper row weighs 1). Weight 0.3 left the audits drawn by model where they were and raised the invented
# paraphrases; weight 1 cost the audits 0.006 (bench/README.md, "Judge round 9").
SYNTHETIC_ROWS = 400
SYNTHETIC_SEED = 1
SYNTHETIC_WEIGHT = 0.3
# The project's audits (bench/data) the scorer trains on, after ice-gold's dev-gold.jsonl. Rounds 4-10 joined in
# the sixth session of round 4: on rounds 9 and 10, drawn before and held out from that decision, it left loose
# accuracy where it was and raised strict (bench/README.md, "Judge round 9").
AUDIT_FILES = (
    "ice-audit-extra.jsonl",
    "ice-audit-round3.jsonl",
    "ice-audit-round4.jsonl",
    "ice-audit-round5.jsonl",
    "ice-audit-round6.jsonl",
    "ice-audit-round7.jsonl",
    "ice-audit-round8.jsonl",
    "ice-audit-round9.jsonl",
    "ice-audit-round10.jsonl",
)


@dataclass
class Example:
    """One answer with its training labels (None: no usable label) and how it is used."""

    line: int
    model: str
    features: Features
    loose: bool | None
    strict: bool | None
    weight: float
    gold: bool
    stratum: str | None  # the audit stratum of a gold row
    source: str  # "paper", "synthetic", or the audit file's name
    paper: bool | None = None  # the paper's loose label of an answer of a complete run (else None)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_examples(
    labels: Path,
    audits: Sequence[Path],
    registry: IdentityRegistry | None = None,
    config: FeatureConfig | None = None,
    *,
    synthetic: bool = True,
) -> list[Example]:
    """Every line of the paper's labels as an `Example`, with the audited labels of `audits`
    (dev-gold first; a line audited twice keeps its first label), then the composed statements
    (`synthetic_examples`) unless `synthetic` is False."""
    registry = registry or IdentityRegistry.builtin()
    reader, maker = RuleReader(registry), FeatureMaker(config)
    rows = read_jsonl(labels)
    gold: dict[int, tuple[dict[str, Any], str]] = {}
    for path in audits:
        for g in read_jsonl(path):
            gold.setdefault(int(g["line"]), (g, path.name))
    targets: dict[tuple[str, str], Any] = {}
    out: list[Example] = []
    for line, row in enumerate(rows):
        key = (row["model"], row["target_org"])
        if key not in targets:
            found = registry.find_org(row["target_org"]) or registry.for_model(row["model"])
            if found is None:
                raise ValueError(f"no registry identity for {key}")
            targets[key] = found
        prompt = fill_template(row["jailbreak_prompt"], row["query"])
        item = JudgeItem(index=line, prompt=prompt, query=row["query"], response=row["response"])
        reading = reader.read(item, targets[key])
        features = maker.make(reading, row["query"])
        paper = bool(row["loose"]) if row.get("complete_run", True) else None
        if line in gold:
            g, source = gold[line]
            out.append(
                Example(line, row["model"], features, bool(g["gold_loose"]), bool(g["gold_strict"]),
                        GOLD_WEIGHT, True, str(g["stratum"]), source, paper)
            )  # fmt: skip
        elif paper is not None:
            strict = None if row["model"] in STRICT_LABEL_BROKEN else bool(row["strict"])
            out.append(Example(line, row["model"], features, paper, strict, 1.0, False, None, "paper", paper))
        else:
            out.append(Example(line, row["model"], features, None, None, 0.0, False, None, "paper"))
    if synthetic:
        out += synthetic_examples(registry, config)
    return out


def synthetic_examples(
    registry: IdentityRegistry | None = None, config: FeatureConfig | None = None
) -> list[Example]:
    """The composed statements as training rows of their own model, "synthetic" (so leaving a real
    model out never removes them), at lines -1, -2, ... (never a paper line)."""
    registry = registry or IdentityRegistry.builtin()
    reader, maker = RuleReader(registry), FeatureMaker(config)
    out: list[Example] = []
    for k, st in enumerate(statements(SYNTHETIC_ROWS, SYNTHETIC_SEED)):
        item = JudgeItem(index=k, prompt=st.prompt, query=st.query, response=st.response)
        features = maker.make(reader.read(item, registry.for_org(st.target_org)), st.query)
        out.append(
            Example(
                -1 - k, "synthetic", features, st.loose, st.strict, SYNTHETIC_WEIGHT, False, None, "synthetic"
            )
        )
    return out


def matrix(examples: Sequence[Example], config: FeatureConfig) -> sp.csr_matrix:
    """Rows of [signals | text buckets | prompt buckets], the values the scorer computes with."""
    n_sig, n_text = len(SIGNALS), 1 << config.text_bits
    width = n_sig + n_text + (1 << config.template_bits)
    indptr, indices, data = [0], [], []
    for ex in examples:
        f = ex.features
        text = np.asarray(f.text, dtype=np.int64)
        template = np.asarray(f.template, dtype=np.int64)
        cols = [np.arange(n_sig), text + n_sig, template + n_sig + n_text]
        vals = [
            np.asarray(f.signals, dtype=float),
            np.full(text.size, 1 / np.sqrt(max(text.size, config.norm_floor))),
            np.full(template.size, 1 / np.sqrt(max(template.size, config.norm_floor))),
        ]
        indices.append(np.concatenate(cols))
        data.append(np.concatenate(vals))
        indptr.append(indptr[-1] + indices[-1].size)
    return sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.array(indptr)), shape=(len(examples), width)
    )


def _fit(X: sp.csr_matrix, y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    # liblinear's dual solver: fast where features outnumber rows, and deterministic (fixed seed)
    model = LogisticRegression(C=C, solver="liblinear", dual=True, random_state=0, tol=1e-4, max_iter=1000)
    model.fit(X, y, sample_weight=w)
    return float(model.intercept_[0]), np.asarray(model.coef_[0])


def _column_mask(X: sp.csr_matrix, n_sig: int) -> np.ndarray:
    """1 for the signal columns and for buckets at least MIN_DF training answers have, else 0."""
    df = np.bincount(X.indices, minlength=X.shape[1])
    keep = (df >= MIN_DF).astype(float)
    keep[:n_sig] = 1.0
    return keep


def _in_head(ex: Example, head: str) -> bool:
    """Whether a row trains (and calibrates) `head`: the strict head only sees answers that name an
    OpenAI or Anthropic family, since strict is a claim to be one (every other answer's p_strict
    is 0); an audited strict label never lacks such a name."""
    return head == "loose" or bool(ex.features.signals[STRICT_MENTIONS])


def _labels(examples: Sequence[Example], head: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a label for `head`, their labels and weights."""
    rows = np.array(
        [
            i
            for i, ex in enumerate(examples)
            if getattr(ex, head) is not None and ex.weight > 0 and _in_head(ex, head)
        ]
    )
    y = np.array([bool(getattr(examples[i], head)) for i in rows], dtype=float)
    w = np.array(
        [
            examples[i].weight * (PAPER_STRICT_WEIGHT if head == "strict" and not examples[i].gold else 1.0)
            for i in rows
        ]
    )
    return rows, y, w


def _fit_head(
    X: sp.csr_matrix, examples: Sequence[Example], head: str, n_sig: int
) -> tuple[float, np.ndarray]:
    rows, y, w = _labels(examples, head)
    Xh = X[rows]
    keep = np.flatnonzero(_column_mask(Xh, n_sig))
    intercept, kept = _fit(Xh[:, keep].tocsr(), y, w)
    coef = np.zeros(X.shape[1])
    coef[keep] = kept
    return intercept, coef


def calibration_weights(examples: Sequence[Example], strata_pop: dict[str, int]) -> np.ndarray:
    """Each gold row of a weighted stratum stands for its stratum's share of the population; every
    other row 0 (the `S`, `U` and later audit rows were not drawn by the population's strata)."""
    counts: dict[str, int] = {}
    for ex in examples:
        if ex.gold and ex.stratum in strata_pop:
            counts[ex.stratum] = counts.get(ex.stratum, 0) + 1
    return np.array(
        [
            strata_pop[ex.stratum] / counts[ex.stratum] if ex.gold and ex.stratum in strata_pop else 0.0
            for ex in examples
        ]
    )


def _folds(models: Iterable[str]) -> list[list[str]]:
    names = sorted(set(models))
    return [names[k::FOLDS] for k in range(FOLDS) if names[k::FOLDS]]


@dataclass(frozen=True)
class CrossFit:
    """One head's cross-fitted calibration: `platt` fitted on the `logits` of scorers trained without
    each calibration row's model, and `p`, those logits calibrated, for every row they were computed
    on (the calibration rows; for the loose head every answer of the folded models; 0 elsewhere)."""

    platt: tuple[float, float]
    logits: np.ndarray  # before calibration
    p: np.ndarray
    rows: np.ndarray  # the calibration rows (indices into the examples)
    weights: np.ndarray  # their calibration weights
    labels: np.ndarray  # their labels (0.0 / 1.0)
    models: list[str]  # the folded models


def cross_fitted(
    examples: Sequence[Example],
    strata_pop: dict[str, int],
    head: str,
    config: FeatureConfig | None = None,
    X: sp.csr_matrix | None = None,
) -> CrossFit:
    """The calibration of `head` (`CrossFit`), from `FOLDS` folds of whole models."""
    config = config or FeatureConfig()
    n_sig = len(SIGNALS)
    X = matrix(examples, config) if X is None else X
    models = np.array([ex.model for ex in examples])
    cal_w = calibration_weights(examples, strata_pop) * np.array([_in_head(ex, head) for ex in examples])
    cal_rows = np.flatnonzero(cal_w > 0)
    oof = np.zeros(len(examples))
    for fold in _folds(models[cal_rows]):
        inside = np.isin(models, fold)
        keep = np.flatnonzero(~inside)
        b0, c = _fit_head(X[keep], [examples[int(i)] for i in keep], head, n_sig)
        # the loose head scores every answer of the fold's models (their runs' rates); strict its rows
        test = np.flatnonzero(inside & ((cal_w > 0) | (head == "loose")))
        oof[test] = X[test] @ c + b0
    y = np.array([float(bool(getattr(examples[int(i)], head))) for i in cal_rows])
    platt = fit_platt(oof[cal_rows], y, cal_w[cal_rows])
    p_oof = 1.0 / (1.0 + np.exp(-np.clip(platt[0] * oof + platt[1], -40.0, 40.0)))
    return CrossFit(
        platt, oof, p_oof, cal_rows, cal_w[cal_rows], y, sorted({str(m) for m in models[cal_rows]})
    )


def build(
    examples: Sequence[Example], strata_pop: dict[str, int], config: FeatureConfig | None = None
) -> ScorerWeights:
    """Fit both heads on every example and calibrate each on cross-fitted logits of the gold rows."""
    config = config or FeatureConfig()
    X = matrix(examples, config)
    heads: dict[str, Head] = {}
    for head in HEADS:
        intercept, coef = _fit_head(X, examples, head, len(SIGNALS))
        fit = cross_fitted(examples, strata_pop, head, config, X)
        spread = transfer(examples, fit.p, fit.models) if head == "loose" else None
        heads[head] = _head(intercept, coef, len(SIGNALS), config, fit.platt, spread)
    return ScorerWeights(config, heads, DOUBT)


def run_errors(examples: Sequence[Example], p: np.ndarray, models: Iterable[str]) -> dict[str, float]:
    """Per model, logit(audited rate) - logit(expected rate) of its whole run: the expected rate is
    the mean of the calibrated probabilities `p` of every answer of the run; the audited rate comes
    from the rounds drawn by the paper's label (`R<n>-P` / `R<n>-N` strata: random within a model's
    paper positives and negatives), each half weighted by its share of the run. A model without
    audited rows of both halves is left out."""
    errors: dict[str, float] = {}
    for model in models:
        rows = [i for i, ex in enumerate(examples) if ex.model == model and ex.paper is not None]
        audited: dict[bool, list[float]] = {True: [], False: []}
        for i in rows:
            ex = examples[i]
            if ex.gold and ex.stratum is not None and ROUND_STRATUM.fullmatch(ex.stratum):
                audited[bool(ex.paper)].append(float(bool(ex.loose)))
        if not rows or not audited[True] or not audited[False]:
            continue
        share = sum(bool(examples[i].paper) for i in rows) / len(rows)
        rate = share * float(np.mean(audited[True])) + (1 - share) * float(np.mean(audited[False]))
        errors[model] = rate_logit(rate) - rate_logit(float(np.mean(p[rows])))
    return errors


def transfer(examples: Sequence[Example], p: np.ndarray, models: Iterable[str]) -> Transfer | None:
    """How far the loose expected rate moved between the cross-fitted models (`Transfer`): the root
    mean square of their errors (`run_errors`, logit scale; it counts each model's audit noise as
    spread too, which errs wide), and the 95% error for a new model, t(0.975, models) times it.
    None with fewer than 2 models."""
    from scipy import stats

    errors = list(run_errors(examples, p, models).values())
    if len(errors) < 2:
        return None
    sd = float(np.sqrt(np.mean(np.square(errors))))
    return Transfer(round(sd, 6), len(errors), round(float(stats.t.ppf(0.975, len(errors))) * sd, 6))


def _head(
    intercept: float,
    coef: np.ndarray,
    n_sig: int,
    config: FeatureConfig,
    platt: tuple[float, float],
    spread: Transfer | None = None,
) -> Head:
    """Weights rounded to float32 at 6 decimals (a rebuild is then byte for byte); zero buckets dropped."""
    coef = np.round(coef, 6).astype(np.float32)
    n_text = 1 << config.text_bits
    text, template = coef[n_sig : n_sig + n_text], coef[n_sig + n_text :]
    t_idx, p_idx = np.flatnonzero(text), np.flatnonzero(template)

    def floats(values: np.ndarray) -> array[float]:
        return array("f", values.astype(np.float32).tobytes())

    def ints(values: np.ndarray) -> array[int]:
        return array("I", values.astype(np.uint32).tobytes())

    return Head(
        round(intercept, 6), floats(coef[:n_sig]), ints(t_idx), floats(text[t_idx]),
        ints(p_idx), floats(template[p_idx]), (round(platt[0], 6), round(platt[1], 6)), spread,
    )  # fmt: skip


def raw_logits(weights: ScorerWeights, examples: Sequence[Example]) -> np.ndarray:
    """(n, 2) raw logits of examples under `weights` (the same sums the judge computes)."""
    from distillscope.ice.judges.scorer import Scorer

    scorer = Scorer(weights)
    return np.array([scorer.logits(ex.features) for ex in examples])


def probabilities(weights: ScorerWeights, examples: Sequence[Example]) -> np.ndarray:
    """(n, 2) calibrated (p_loose, p_strict), exactly as the judge computes them."""
    from distillscope.ice.judges.scorer import Scorer

    scorer = Scorer(weights)
    return np.array([scorer.probabilities(ex.features) for ex in examples]).reshape(-1, 2)


def lomo_builds(
    examples: Sequence[Example],
    strata_pop: dict[str, int],
    config: FeatureConfig | None = None,
    *,
    train: Sequence[Example] | None = None,
    every_row: bool = False,
) -> Iterator[tuple[str, ScorerWeights, list[Example]]]:
    """For each model with gold rows: the weights rebuilt without any of its rows (labels and gold),
    and the model's rows to score with them: its gold rows (`every_row`: every answer of the model,
    so its whole run's expected rate can be set against its audits). `train` (default: `examples`)
    is what the rebuilds learn from, so an audit can be measured without being trained on."""
    pool = examples if train is None else train
    for model in sorted({ex.model for ex in examples if ex.gold}):
        fit_on = [ex for ex in pool if ex.model != model]
        test = [ex for ex in examples if ex.model == model and (ex.gold or every_row)]
        yield model, build(fit_on, strata_pop, config), test


def leave_one_model_out(
    examples: Sequence[Example],
    strata_pop: dict[str, int],
    config: FeatureConfig | None = None,
    *,
    train: Sequence[Example] | None = None,
    every_row: bool = False,
) -> dict[str, dict[int, tuple[float, float]]]:
    """`lomo_builds`' probabilities: per model, its rows' (p_loose, p_strict) by line, each from the
    build without that model."""
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for model, weights, test in lomo_builds(examples, strata_pop, config, train=train, every_row=every_row):
        p = probabilities(weights, test)
        out[model] = {ex.line: (float(a), float(b)) for ex, (a, b) in zip(test, p, strict=True)}
    return out
