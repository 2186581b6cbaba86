"""The "distilled from F" decision, calibrated on independent control models.

The per-prompt test of stats.py asks whether a writer leans to family F more than to the other
families *listed*. Every 2023 open model leaned to ChatGPT more than to Claude or PaLM, so that
test names a family for models that never saw F's outputs. Controls are models known not to be
trained on any family's outputs; they are both the contrast and the null.

**The contrast** (contrasts.py): for each control c_i a classifier C_{F,i} learns F's members'
answers against the answers of the *other* controls (balanced classes, cross-fitted over prompts),
so it measures the direction that matters, F's writing versus independent writing, not F versus the
other families. It never sees X (a test model) nor c_i. Let s_i(m, p) be its P(F) for model m at
prompt p (turns averaged), and

    d_i = mean_p [ s_i(X, p) - s_i(c_i, p) ]      over the prompts both answered.

Under the null "X is one more independent model", X and c_i are exchangeable with respect to C_{F,i}
(both unseen, both independent), so d_i is centred on 0. X's **resemblance score** (for ranking) is
mean_i mean_p s_i(X, p).

**The test** of H0: E[d_i] <= 0 over the n contrasts. The d_i all share X: write d_i = u_X - u_i + e_i
with u a model's own effect. A sign-flip or ordinary t-test over the d_i treats them as independent,
so X's own effect u_X, common to all of them, would count n times as evidence: both are
anti-conservative by about sqrt(n + 1) (a model that happens to write a little like F would be called
distilled from it). The spread of the d_i holds the *controls'* effects and the prompt noise (u_X
cancels), so the honest statistic is the **prediction t-test**

    t = mean(d) / (sd(d) * sqrt(1 + 1/n)),   n - 1 df, one-sided,

which adds X's own effect back at the controls' spread: it assumes that the models' effects spread
normally and that X's spreads like a control's (exchangeability), stated in every decision's reason.
With few controls only a large distance is significant; the prompts make each d_i precise but never
stand in for models. A rank test over models would need no normality but can never go below
1/(n + 1) (7 controls: 0.125).

Holm's correction runs over the families; `distilled_from` is the single family below alpha. A control
is judged the same way with itself playing X against the other n - 1 controls, each classifier trained
without both: the run's own false-positive check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Literal

import numpy as np

from distillscope.rse.attribution import stats
from distillscope.rse.attribution.contrasts import ContrastScores
from distillscope.rse.attribution.types import Decision
from distillscope.stats.intervals import bootstrap_mean

MIN_CONTROLS = 2  # a t-test over contrasts needs a spread: two controls at the very least
MIN_PROMPTS = 10  # fewer prompts answered in common with the controls: abstain


def prediction_pvalue(contrasts: Sequence[float]) -> float | None:
    """One-sided p of "X is one more independent model" from its contrasts against each control
    (prediction t-test, n - 1 df); None with fewer than two contrasts or no spread."""
    from scipy.stats import t as student

    values = np.asarray(contrasts, dtype=float)
    values = values[np.isfinite(values)]
    n = values.size
    if n < MIN_CONTROLS:
        return None
    sd = float(values.std(ddof=1))
    if not np.isfinite(sd) or sd <= 0:
        return None
    t = float(values.mean()) / (sd * np.sqrt(1 + 1 / n))
    return float(student.sf(t, n - 1))


@dataclass
class ControlTest:
    """Per family: the model's resemblance score, its contrasts against each control, the p-value."""

    score: dict[str, float]
    contrasts: dict[str, list[float]]
    p_t: dict[str, float | None]
    n_prompts: int
    # per family: the resemblance score's 95% bootstrap interval over prompts, and how many prompts
    score_ci95: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    score_n: dict[str, int] = field(default_factory=dict)


def judge_against(model: str, controls: Sequence[str], fits: ContrastScores) -> ControlTest:
    """`model` (a test model, or a control playing one) against `controls` (none of which is it):
    one contrast per control, each from the classifier trained without the model and that control."""
    base = frozenset([model]) if model in fits.controls else frozenset()
    score: dict[str, float] = {}
    score_ci95: dict[str, tuple[float | None, float | None]] = {}
    score_n: dict[str, int] = {}
    contrasts: dict[str, list[float]] = {}
    p_t: dict[str, float | None] = {}
    n_prompts: list[int] = []
    for family in fits.families:
        # the ranking score: P(F) from classifiers trained on F against n - 1 controls, never on this
        # model (a test model: one per control, averaged; a control: the one without it), so the
        # scores of test models and controls are on the same footing
        ranking = [fits.prompts(family, frozenset([c]), model) for c in controls] if not base else []
        ranking = ranking or [fits.prompts(family, base, model)]
        own = [float(np.mean(list(r.values()))) for r in ranking if r]
        diffs = []
        for c in controls:
            left_out = base | {c}
            mine, theirs = fits.prompts(family, left_out, model), fits.prompts(family, left_out, c)
            common = [g for g in mine if g in theirs]
            n_prompts.append(len(common))
            diffs.append(float(np.mean([mine[g] - theirs[g] for g in common])) if common else float("nan"))
        score[family] = float(np.mean(own)) if own else float("nan")
        # its interval: each prompt's P averaged over the classifiers, resampled over prompts
        per_prompt = [
            float(np.mean([r[g] for r in ranking if g in r])) for g in dict.fromkeys(chain(*ranking))
        ]
        _, (lo, hi) = bootstrap_mean(per_prompt, bounds=(0.0, 1.0))
        score_ci95[family] = (None if lo is None else round(lo, 6), None if hi is None else round(hi, 6))
        score_n[family] = len(per_prompt)
        contrasts[family] = diffs
        p_t[family] = prediction_pvalue(diffs)
    return ControlTest(score, contrasts, p_t, min(n_prompts, default=0), score_ci95, score_n)


def decide(
    test: ControlTest | None,
    *,
    resembles: str | None,
    n_controls: int,
    alpha: float,
    resembles_p: float | None = None,
) -> Decision:
    """The decision and its wording from a test against the controls (None: no controls given).
    `resembles_p`: the Holm-adjusted p of the per-prompt test that named `resembles`; where a call
    rests on both tests, its p-value is the larger of the two (an intersection-union test: both
    nulls must fall, so the call's error is at most the larger of their errors)."""
    if test is None and n_controls == 0:
        return Decision(
            distilled_from=None, p_value=None, n_controls=0, resembles=resembles, status="no-controls",
            reason="run without control models: no independent models to compare with, so no 'distilled from' "
            "claim is made; resemblance to the families only",
        )  # fmt: skip
    if test is None or n_controls < MIN_CONTROLS:
        return Decision(
            distilled_from=None, p_value=None, n_controls=n_controls, resembles=resembles, status="abstain",
            reason=f"{n_controls} control(s): a test over models needs at least {MIN_CONTROLS}",
        )  # fmt: skip
    if test.n_prompts < MIN_PROMPTS:
        return Decision(
            distilled_from=None, p_value=None, n_controls=n_controls, resembles=resembles, status="abstain",
            reason=f"{test.n_prompts} prompt(s) answered in common with the controls: at least {MIN_PROMPTS} needed",
        )  # fmt: skip
    scores = {f: round(v, 6) for f, v in test.score.items() if np.isfinite(v)}
    intervals = {f: test.score_ci95[f] for f in scores if f in test.score_ci95}
    counts = {f: test.score_n[f] for f in scores if f in test.score_n}
    usable = {f: p for f, p in test.p_t.items() if p is not None}
    if not usable:
        return Decision(
            distilled_from=None, p_value=None, n_controls=n_controls, resembles=resembles, status="abstain",
            reason="the contrasts against the controls do not vary: nothing to test against",
        )  # fmt: skip
    adjusted = stats.holm(usable)
    winner = stats.decide(adjusted, alpha)
    best = winner or min(adjusted, key=lambda f: (adjusted[f], -test.score[f]))
    assumption = (
        f"prediction t-test over {n_controls} contrasts ({n_controls - 1} df; each against one control, "
        f"scored by a family-vs-independent classifier that saw neither), Holm over {len(adjusted)} "
        "families; it assumes the models' effects spread normally and this model's like a control's. "
        f"A rank test needs no such assumption but can never go below 1/({n_controls}+1) = {1 / (n_controls + 1):.3g}"
    )
    p = round(adjusted[best], 6)
    if winner is not None:
        return Decision(
            distilled_from=winner, p_value=p, n_controls=n_controls, resembles=resembles or winner,
            status="distilled", scores=scores, score_ci95=intervals, score_n=counts,
            reason=f"resembles {winner} more than the {n_controls} independent controls do "
            f"(mean contrast {_mean(test.contrasts[winner]):+.3f} in P({winner} rather than independent)); {assumption}",
        )  # fmt: skip
    beaten = sorted(f for f, q in adjusted.items() if q < alpha)
    if len(beaten) > 1 and resembles in beaten:
        # Assistant writing is shared across vendors, so a model distilled from F often beats the controls
        # for F's siblings too. The contrast says "unlike independent models, like these families"; the
        # families classifier, over prompts, says which of them it leans to: both together name F.
        assert resembles is not None
        others = ", ".join(f"{f} p = {adjusted[f]:.3g}" for f in beaten if f != resembles)
        joint = max(adjusted[resembles], resembles_p if resembles_p is not None else 0.0)
        return Decision(
            distilled_from=resembles, p_value=round(joint, 6), n_controls=n_controls,
            resembles=resembles, status="distilled", scores=scores, score_ci95=intervals, score_n=counts,
            reason=f"resembles {resembles} more than the {n_controls} independent controls do (mean contrast "
            f"{_mean(test.contrasts[resembles]):+.3f} in P({resembles} rather than independent), p = "
            f"{adjusted[resembles]:.3g}), and leans to {resembles} among the families over prompts"
            + (f" (p = {resembles_p:.3g})" if resembles_p is not None else "")
            + f"; the call needs both, so its p-value is the larger; it also beats the controls for {others}, "
            f"the writing those families share; {assumption}",
        )  # fmt: skip
    if len(beaten) > 1:
        # the contrast is F against *independent* writing: a model unlike the controls can beat them for
        # several families at once; naming one would claim more than the test shows
        listed = ", ".join(f"{f} p = {adjusted[f]:.3g}" for f in beaten)
        return Decision(
            distilled_from=None, p_value=p, n_controls=n_controls, resembles=resembles, status="several",
            scores=scores, score_ci95=intervals, score_n=counts,
            reason=f"writes less like the {n_controls} independent controls than like several families "
            f"({listed}): no single family is named; {assumption}",
        )  # fmt: skip
    status: Literal["resembles", "independent"] = "resembles" if resembles is not None else "independent"
    what = (
        f"resembles {resembles}, but no more than independent models do"
        if resembles is not None
        else "leans to no family"
    )
    return Decision(
        distilled_from=None, p_value=p, n_controls=n_controls, resembles=resembles, status=status, scores=scores, score_ci95=intervals, score_n=counts,
        reason=f"{what} (smallest adjusted p {p:.3g} for {best}, mean contrast {_mean(test.contrasts[best]):+.3f}, "
        f"alpha {alpha}); {assumption}",
    )  # fmt: skip


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def wording(decision: Decision) -> str:
    """What the terminal and the report say: never more than the test shows."""
    if decision.status == "distilled":
        return (
            f"distilled from {decision.distilled_from} (p = {decision.p_value:.3g}, against "
            f"{decision.n_controls} independent controls)"
        )
    if decision.status == "several":
        return (
            f"less like the {decision.n_controls} independent controls than like several families "
            f"(p = {decision.p_value:.3g}); no single family named"
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


CALLED = ("distilled", "several")  # a control beating the controls for one family or for several


def is_called(decision: Decision | None) -> bool:
    """Whether a decision claims more than independent writing: "several" beats the controls too,
    it only names no family, so for a control it is a false positive all the same."""
    return decision is not None and decision.status in CALLED


@dataclass
class FalsePositiveCheck:
    """The run's own false-positive check over its controls, counted once for the terminal, the
    warnings and the reports: which controls were called distilled and which abstained (for those
    the check was not made)."""

    n: int
    called: list[str] = field(default_factory=list)
    abstained: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, decisions: Mapping[str, Decision | None]) -> FalsePositiveCheck:
        called = [c for c, d in decisions.items() if is_called(d)]
        abstained = [c for c, d in decisions.items() if d is None or d.status == "abstain"]
        return cls(len(decisions), called, abstained)

    def summary(self) -> str:
        """E.g. "1 of 4 controls called distilled (guanaco-33b), each judged with itself left out" or
        "0 of 2 controls called distilled, each judged with itself left out; 2 abstained, so the check
        was not made"."""
        named = f" ({', '.join(self.called)})" if self.called else ""
        line = f"{len(self.called)} of {self.n} controls called distilled{named}, each judged with itself left out"
        if not self.abstained:
            return line
        if len(self.abstained) == self.n:
            return f"{line}; {self.n} abstained, so the check was not made"
        return (
            f"{line}; {len(self.abstained)} abstained ({', '.join(self.abstained)}), "
            "so the check was not made for them"
        )
