"""The "distilled from F" decision, calibrated on independent control models.

The per-prompt test of stats.py asks whether a writer leans to family F more than to the other
families *listed*. Every 2023 open model leaned to ChatGPT more than to Claude or PaLM, so that
test names a family for models that never saw F's outputs. Controls are models known not to be
trained on any family's outputs: they show how far an *independent* model resembles F.

For a model X, family F and prompt p let s(X, p) be X's cross-fitted P(F) on p (turns averaged).
The controls' mean at each prompt is subtracted, the same for every model (so a prompt that every
model answers in F's way counts for no one, and a missing answer cannot shift a model's score), and
a model's **resemblance score** is the mean over its prompts:

    r(X) = mean_p [ s(X, p) - mean_c s(c, p) ]

The null hypothesis is "X is one more independent model": r(X) is exchangeable with the controls'
r(c). Two tests of it:

- the **rank** p-value, (1 + #{c: r(c) >= r(X)}) / (n + 1), exact under exchangeability alone,
  can never go below 1/(n + 1): 7 controls, 0.125. It is given in the decision's reason, never
  used to decide.
- the **decision** p-value is a one-sided prediction t-test over models: under a random-effects
  model (each model's r = mu + its own effect + prompt noise, effects spread normally),
  (r(X) - mean r(c)) / (sd r(c) * sqrt(1 + 1/n)) follows Student's t with n - 1 degrees of freedom.
  The spread between the controls' scores holds both the between-model spread and the prompt noise,
  so the p-value accounts for both; the prompts buy power only by making each r precise, never by
  letting the number of prompts stand in for the number of models. It relies on the normal spread of
  model effects, which is an assumption (stated in every decision's reason), and has n - 1 degrees
  of freedom: with few controls only a large distance from them is significant.

Holm's correction runs over the families. `distilled_from` is the single family whose adjusted
p-value is below alpha. A control is judged the same way with itself left out of the controls:
the run's own false-positive check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from distillscope.rse.attribution import stats
from distillscope.rse.attribution.types import Decision

MIN_CONTROLS = 2  # a t-test over models needs a spread: two controls at the very least
MIN_PROMPTS = 10  # fewer prompts answered in common with the controls: abstain


@dataclass(frozen=True)
class PromptScores:
    """One model's cross-fitted P(family) per prompt (turns averaged): prompt -> one value per family."""

    model: str
    by_prompt: Mapping[str, NDArray[np.float64]]


def prompt_scores(model: str, probabilities: NDArray[np.float64], groups: Sequence[str]) -> PromptScores:
    """Average a model's answer probabilities (rows, one column per family) per prompt group."""
    sums: dict[str, NDArray[np.float64]] = {}
    counts: dict[str, int] = {}
    for row, group in zip(probabilities, groups, strict=True):
        sums[group] = sums.get(group, np.zeros(probabilities.shape[1])) + row
        counts[group] = counts.get(group, 0) + 1
    return PromptScores(model, {g: sums[g] / counts[g] for g in sums})


def control_means(controls: Sequence[PromptScores]) -> dict[str, NDArray[np.float64]]:
    """Per prompt: the controls' mean P(family) (over the controls that answered it)."""
    groups: dict[str, list[NDArray[np.float64]]] = {}
    for c in controls:
        for group, values in c.by_prompt.items():
            groups.setdefault(group, []).append(values)
    return {g: np.mean(v, axis=0) for g, v in groups.items()}


def resemblance(
    model: PromptScores, centre: Mapping[str, NDArray[np.float64]], k: int
) -> tuple[NDArray[np.float64], int]:
    """r(model) per family of `k` (mean over prompts of its P(F) minus the controls' mean at that
    prompt), and the number of prompts it rests on (those some control answered too)."""
    diffs = [values - centre[g] for g, values in model.by_prompt.items() if g in centre]
    if not diffs:
        return np.full(k, np.nan), 0
    return np.mean(diffs, axis=0), len(diffs)


def rank_pvalue(x: float, null: Sequence[float]) -> float:
    """(1 + #{null >= x}) / (n + 1): exact under exchangeability, never below 1 / (n + 1)."""
    return (1 + sum(1 for v in null if v >= x - 1e-12)) / (len(null) + 1)


def prediction_pvalue(x: float, null: Sequence[float]) -> float | None:
    """One-sided p of "x is one more draw like `null`" (prediction t-test, n - 1 df); None when the
    null has no spread to test against."""
    from scipy.stats import t as student

    values = np.asarray(null, dtype=float)
    n = values.size
    if n < MIN_CONTROLS:
        return None
    sd = float(values.std(ddof=1))
    if not np.isfinite(sd) or sd <= 0:
        return None
    t = (x - float(values.mean())) / (sd * np.sqrt(1 + 1 / n))
    return float(student.sf(t, n - 1))


@dataclass
class ControlTest:
    """Per family: the model's resemblance score, the controls' scores, and both p-values."""

    score: dict[str, float]
    control_scores: dict[str, list[float]]
    p_t: dict[str, float | None]
    p_rank: dict[str, float]
    n_prompts: int


def judge_against(
    model: PromptScores, controls: Sequence[PromptScores], families: Sequence[str]
) -> ControlTest:
    """`model` against `controls` (none of which is `model`). Everyone is centred on the same
    per-prompt control means, so with complete answers the t statistic is exactly the textbook
    prediction test on the models' mean P(F)."""
    centre = control_means(controls)
    own, n_prompts = resemblance(model, centre, len(families))
    null = [resemblance(c, centre, len(families))[0] for c in controls]
    score, control_scores, p_t, p_rank = {}, {}, {}, {}
    for j, family in enumerate(families):
        column = [float(v[j]) for v in null]
        score[family] = float(own[j])
        control_scores[family] = column
        p_t[family] = prediction_pvalue(float(own[j]), column) if n_prompts else None
        p_rank[family] = rank_pvalue(float(own[j]), column)
    return ControlTest(score, control_scores, p_t, p_rank, n_prompts)


def decide(
    test: ControlTest | None,
    *,
    resembles: str | None,
    n_controls: int,
    alpha: float,
) -> Decision:
    """The decision and its wording from a test against the controls (None: no controls given)."""
    if test is None:
        return Decision(
            distilled_from=None, p_value=None, n_controls=0, resembles=resembles, status="no-controls",
            reason="run without --control: no independent models to compare with, so no 'distilled from' "
            "claim is made; resemblance to the families only",
        )  # fmt: skip
    floor = 1 / (n_controls + 1)
    if n_controls < MIN_CONTROLS:
        return Decision(
            distilled_from=None, p_value=None, n_controls=n_controls, resembles=resembles, status="abstain",
            reason=f"{n_controls} control(s): a test over models needs at least {MIN_CONTROLS}",
        )  # fmt: skip
    if test.n_prompts < MIN_PROMPTS:
        return Decision(
            distilled_from=None, p_value=None, n_controls=n_controls, resembles=resembles, status="abstain",
            reason=f"{test.n_prompts} prompt(s) answered in common with the controls: at least {MIN_PROMPTS} needed",
        )  # fmt: skip
    usable = {f: p for f, p in test.p_t.items() if p is not None}
    if not usable:
        return Decision(
            distilled_from=None, p_value=None, n_controls=n_controls, resembles=resembles, status="abstain",
            reason="the controls' scores do not vary: nothing to test against",
        )  # fmt: skip
    adjusted = stats.holm(usable)
    winner = stats.decide(adjusted, alpha)
    best = winner or min(adjusted, key=lambda f: (adjusted[f], -test.score[f]))
    assumption = (
        f"t-test over models ({n_controls} controls, {n_controls - 1} df), Holm over {len(adjusted)} "
        f"families; it assumes the models' effects spread normally. A rank test needs no such assumption "
        f"but can never go below 1/({n_controls}+1) = {floor:.3g} (here p_rank = {test.p_rank[best]:.3g})"
    )
    p = round(adjusted[best], 6)
    if winner is not None:
        return Decision(
            distilled_from=winner, p_value=p, n_controls=n_controls, resembles=resembles or winner,
            status="distilled",
            reason=f"resembles {winner} more than the {n_controls} independent controls do "
            f"(score {test.score[winner]:+.3f} vs the controls' {_mean(test.control_scores[winner]):+.3f}); {assumption}",
        )  # fmt: skip
    status: Literal["resembles", "independent"] = "resembles" if resembles is not None else "independent"
    what = (
        f"resembles {resembles}, but no more than independent models do"
        if resembles is not None
        else "leans to no family"
    )
    return Decision(
        distilled_from=None, p_value=p, n_controls=n_controls, resembles=resembles, status=status,
        reason=f"{what} (smallest adjusted p {p:.3g} for {best}, alpha {alpha}); {assumption}",
    )  # fmt: skip


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def wording(decision: Decision) -> str:
    """What the terminal and the report say: never more than the test shows."""
    if decision.status == "distilled":
        return (
            f"distilled from {decision.distilled_from} (p = {decision.p_value:.3g}, against "
            f"{decision.n_controls} independent controls)"
        )
    if decision.status == "resembles":
        return f"resembles {decision.resembles}, but no more than independent models do"
    if decision.status == "independent":
        return "resembles no family more than the others"
    if decision.status == "abstain":
        return f"abstain ({decision.reason})"
    return (
        f"resembles {decision.resembles}"
        if decision.resembles
        else "resembles no family more than the others"
    )
