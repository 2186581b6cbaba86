"""Leave-one-model-out: a model's probabilities come from a build that never saw any of its rows,
so its own labels cannot move them; `every_row` scores its whole run with the same build. The
transfer spread: each run's error on the logit of its rate, and their root mean square. The
cross-fitted calibration a build ships."""

from __future__ import annotations

import dataclasses

import numpy as np

from distillscope.ice.judges.calibration import rate_logit
from distillscope.ice.judges.training import (
    Example,
    build,
    calibration_weights,
    cross_fitted,
    leave_one_model_out,
    run_errors,
    synthetic_examples,
    transfer,
)

MODELS = ("model-a", "model-b", "model-c", "model-d")


def _examples() -> list[Example]:
    """The composed statements dealt to four models; every fourth row of each model audited."""
    out = []
    for k, ex in enumerate(synthetic_examples()):
        model = MODELS[k % len(MODELS)]
        gold = (k // len(MODELS)) % 4 == 0
        stratum = ("L11" if ex.loose else "L00") if gold else None
        out.append(dataclasses.replace(ex, line=k, model=model, gold=gold, stratum=stratum, source="test"))
    return out


POP = {"L00": 600, "L11": 400}


def test_a_models_probabilities_do_not_depend_on_its_own_labels() -> None:
    examples = _examples()
    flipped = [
        dataclasses.replace(ex, loose=not ex.loose, strict=False) if ex.model == "model-b" else ex
        for ex in examples
    ]
    plain = leave_one_model_out(examples, POP)
    other = leave_one_model_out(flipped, POP)
    assert set(plain) == set(MODELS)
    assert plain["model-b"] == other["model-b"]  # left out: its labels never reached its build
    assert plain["model-a"] != other["model-a"]  # model-b's labels do train the others' builds


def test_every_row_scores_the_whole_run_with_the_same_build() -> None:
    examples = _examples()
    gold_only = leave_one_model_out(examples, POP)
    every = leave_one_model_out(examples, POP, every_row=True)
    for model in MODELS:
        lines = {ex.line for ex in examples if ex.model == model}
        gold = {ex.line for ex in examples if ex.model == model and ex.gold}
        assert set(gold_only[model]) == gold
        assert set(every[model]) == lines
        assert all(every[model][line] == gold_only[model][line] for line in gold)
        assert all(0.0 <= p_strict <= p_loose <= 1.0 for p_loose, p_strict in every[model].values())


def _run(model: str, audited_positive: int) -> list[Example]:
    """A run of 100 answers, 20 of them paper positives; 10 of the positives and 10 of the negatives
    audited by round (`R1-P` / `R1-N`): `audited_positive` of the audited positives, none of the
    negatives, are contradictions."""
    template = synthetic_examples()[0]
    out = []
    for k in range(100):
        paper = k < 20
        audited = k < 10 or 20 <= k < 30
        loose = (k < audited_positive) if audited else paper
        out.append(
            dataclasses.replace(
                template, line=k, model=model, loose=loose, gold=audited, paper=paper,
                stratum=("R1-P" if paper else "R1-N") if audited else None, source="test",
            )
        )  # fmt: skip
    return out


def test_the_transfer_spread_is_the_rms_of_each_runs_logit_error() -> None:
    from scipy import stats

    examples = _run("a", 5) + _run("b", 10)
    p = np.full(len(examples), 0.1)  # every run's expected rate 0.1
    errors = run_errors(examples, p, ["a", "b"])
    # a: audited rate 0.2 x 5/10 = 0.1, as expected; b: 0.2 x 10/10 = 0.2
    assert set(errors) == {"a", "b"}
    assert abs(errors["a"]) < 1e-9 and abs(errors["b"] - (rate_logit(0.2) - rate_logit(0.1))) < 1e-9
    spread = transfer(examples, p, ["a", "b"])
    assert spread is not None and spread.models == 2
    assert abs(spread.logit_sd - abs(errors["b"]) / np.sqrt(2)) < 1e-6
    assert abs(spread.shift95 - stats.t.ppf(0.975, 2) * spread.logit_sd) < 1e-5
    assert transfer(examples[:100], p[:100], ["a"]) is None  # one model says nothing about the spread
    # a model audited in only one half of its run is left out (its rate is not estimable)
    one_half = [dataclasses.replace(ex, gold=False, stratum=None) if ex.paper else ex for ex in _run("d", 0)]
    assert run_errors(one_half, np.full(100, 0.1), ["d"]) == {}


def test_the_cross_fit_is_what_the_build_calibrates_with() -> None:
    examples = _examples()
    weights = build(examples, POP)
    for head in ("loose", "strict"):
        fit = cross_fitted(examples, POP, head)
        assert weights.heads[head].platt == (round(fit.platt[0], 6), round(fit.platt[1], 6))
        assert fit.models == sorted(MODELS)
        # the calibration rows are the audited rows of the weighted strata (strict: naming a strict vendor)
        w = calibration_weights(examples, POP)
        assert set(fit.rows) <= set(np.flatnonzero(w > 0))
        assert np.all(fit.weights > 0) and fit.labels.shape == fit.rows.shape
        assert np.all((fit.p >= 0.0) & (fit.p <= 1.0))
    loose = cross_fitted(examples, POP, "loose")
    assert set(loose.rows) == set(np.flatnonzero(calibration_weights(examples, POP) > 0))
    # a row's cross-fitted logit comes from a fit without its model: flipping a model's labels
    # moves the calibration, never that model's logits
    flipped = [
        dataclasses.replace(ex, loose=not ex.loose) if ex.model == "model-c" else ex for ex in examples
    ]
    other = cross_fitted(flipped, POP, "loose")
    assert other.platt != loose.platt
    own = np.array([ex.model == "model-c" for ex in examples])
    assert np.array_equal(loose.logits[own], other.logits[own])
    assert not np.array_equal(loose.logits[~own], other.logits[~own])
