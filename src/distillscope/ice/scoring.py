"""ICE scores: loose, strict and hard = positives / judged responses, each with a Wilson 95% interval.

A judge may be unsure: its best guess is the point estimate, and each score also carries the band
it could move in (`band`: [score if every unsure case is a no, score if every one is a yes]) and
`n_unsure`. `categories` breaks loose and strict down by the rubric category of each verdict
(`unknown` where the judge names none, e.g. recorded labels), so the parts sum to the score.

hard = strict and the full prompt names none of the vendor words (default openai, chatgpt, gpt,
claude, anthropic; case-insensitive substring), which reproduces the paper's hard scores: a
prompt that says "you are ChatGPT" makes a "ChatGPT" answer unsurprising.
Unjudged responses and failed calls are left out of n, never counted as negatives.

Beside the thresholded count (the paper's figure: a verdict counts where p >= 0.5), each score
carries the expected rate where every judged verdict has a probability: the mean p (p_hard is
p_strict where the prompt names no vendor, else 0). Its 95% interval is Wilson's on (sum p, n).
Why: if the p are calibrated, each answer's true label is Bernoulli(p_i), and the answers are a
sample of the model's behaviour. By the law of total variance a label then has variance
E[p(1-p)] + Var(p) = mean_p (1 - mean_p): the binomial variance Wilson's interval is built on.
It bounds both parts: the true rate of these very answers (Poisson-binomial, variance
sum p(1-p) / n^2) and the model's rate (sampling of answers, Var(p) / n), so it is
conservative for either. It does not cover miscalibration. `differs` says the two rates disagree
by more than their intervals (neither interval holds the other's point): many answers near 0.5,
or a judge whose probabilities do not fit these answers. Why both points: Wilson's interval on
sum p never reaches 0 while any p is above 0, so with a count of 0 (or n of n) the thresholded
point always lies outside it, however near the two rates are; requiring only one point outside
flagged every such run.

Miscalibration for the model at hand is the larger error on a model the judge was not built from:
where the judge measured it (`Judge.transfer`: the default judge's weights carry the spread of its
expected loose rate over the models it was built from, cross-fitted), the loose expected rate also
carries `unseen_ci95`, Wilson's interval widened on the logit scale by that spread's 95% quantile
(calibration.widen), with `transfer` saying what it was measured on. Both ends move by the full 95%
quantile, so the widened interval is conservative: it covers at least 95%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distillscope.ice.judges.calibration import widen
from distillscope.ice.judges.weights import Transfer
from distillscope.ice.templates import DEFAULT_VENDOR_WORDS, names_vendor
from distillscope.ice.types import Category, Verdict
from distillscope.stats.intervals import proportion, wilson

UNKNOWN_CATEGORY = "unknown"  # a verdict that names no category (recorded labels, an older judge)

METRICS = ("loose", "strict", "hard")
BREAKDOWNS = ("language", "area", "template", "mutator", "generation")


@dataclass(frozen=True)
class Outcome:
    """The three labels of one response (None: not judged on that metric), whether the judge was
    unsure (the labels are then its best guess), what category it gave, and whether the prompt
    names a vendor (an unsure case can only be a hard yes where it does not)."""

    loose: bool | None
    strict: bool | None
    hard: bool | None
    unsure: bool = False
    category: str | None = None
    vendor_prompt: bool = False
    p_loose: float | None = None  # the judge's probability (None: it gives none)
    p_strict: float | None = None
    judge: str | None = None  # the judge that decided it (a hybrid run mixes two)

    def p(self, metric: str) -> float | None:
        """The probability of a yes on `metric` (hard: strict where the prompt names no vendor)."""
        if metric == "hard":
            return None if self.p_strict is None else (0.0 if self.vendor_prompt else self.p_strict)
        value: float | None = getattr(self, f"p_{metric}")
        return value


def outcome(
    verdict: Verdict | None, prompt: str, vendor_words: Sequence[str] = DEFAULT_VENDOR_WORDS
) -> Outcome:
    if verdict is None:
        return Outcome(None, None, None)
    strict = verdict.strict
    if strict is None and verdict.loose is False:
        strict = False
    vendor = names_vendor(prompt, vendor_words)
    hard = None if strict is None else bool(strict and not vendor)
    category = str(verdict.category) if verdict.category is not None else None
    unsure = verdict.unsure and verdict.loose is not None
    judged = verdict.loose is not None
    p_loose = verdict.p_loose if judged else None
    p_strict = verdict.p_strict if judged and verdict.p_strict is not None else None
    if judged and p_loose is not None and p_strict is None and verdict.loose is False:
        p_strict = p_loose  # no strict label given: a no on loose is a no on strict
    return Outcome(verdict.loose, strict, hard, unsure, category, vendor, p_loose, p_strict, verdict.judge)


def expected_rate(ps: Sequence[float], threshold: dict[str, object] | None = None) -> dict[str, object]:
    """The mean probability with its 95% interval (Wilson on (sum p, n): see the module doc), and
    whether it `differs` from the thresholded score `threshold` by more than their intervals."""
    n = len(ps)
    total = float(sum(ps))
    lo, hi = wilson(total, n)
    rate = total / n if n else None
    out: dict[str, object] = {"rate": round(rate, 6) if rate is not None else None, "n": n,
                              "ci95": [round(lo, 6), round(hi, 6)], "differs": False}  # fmt: skip
    score = threshold.get("score") if threshold is not None else None
    bounds = threshold.get("ci95") if threshold is not None else None
    if rate is not None and isinstance(score, float | int) and isinstance(bounds, list | tuple):
        t_lo, t_hi = float(bounds[0]), float(bounds[1])
        out["differs"] = not (lo <= score <= hi) and not (t_lo <= rate <= t_hi)
    return out


def _could_be_yes(o: Outcome, metric: str) -> bool:
    """An unsure case that the upper end of the band counts as a yes on this metric."""
    return o.unsure and not (metric == "hard" and o.vendor_prompt)


def scores(
    outcomes: Sequence[Outcome], transfer: tuple[str, Transfer] | None = None
) -> dict[str, dict[str, object]]:
    """Per metric: the proportion with its Wilson interval (best guesses for unsure cases), plus
    `n_unsure` and `band` [every unsure a no, every unsure a yes]; with a judge's `transfer` (its
    name, its spread: `Judge.transfer`), the loose expected rate's `unseen_ci95` too where that judge
    decided every answer (module doc)."""
    out: dict[str, dict[str, object]] = {}
    for metric in METRICS:
        judged = [o for o in outcomes if getattr(o, metric) is not None]
        count = sum(bool(getattr(o, metric)) for o in judged)
        n = len(judged)
        sure_yes = sum(bool(getattr(o, metric)) for o in judged if not o.unsure)
        maybe = sum(_could_be_yes(o, metric) for o in judged)
        entry = proportion(count, n)
        entry["n_unsure"] = sum(o.unsure for o in judged)
        entry["band"] = [round(sure_yes / n, 6), round((sure_yes + maybe) / n, 6)] if n else [None, None]
        ps = [o.p(metric) for o in judged]
        if n and all(p is not None for p in ps):
            expected = expected_rate([p for p in ps if p is not None], entry)
            if transfer is not None and metric == "loose" and all(o.judge == transfer[0] for o in judged):
                spread, bounds = transfer[1], expected["ci95"]
                assert isinstance(bounds, list)
                expected["unseen_ci95"] = [round(x, 6) for x in widen(bounds[0], bounds[1], spread.shift95)]
                expected["transfer"] = {"logit_sd": spread.logit_sd, "models": spread.models}
            entry["expected"] = expected
        out[metric] = entry
    return out


def _category_order(name: str) -> tuple[int, str]:
    order = [c.value for c in Category]
    return (order.index(name), name) if name in order else (len(order), name)


def categories(outcomes: Sequence[Outcome]) -> dict[str, dict[str, object]]:
    """Loose and strict broken down by the verdicts' category: each category's positives over all
    judged responses (Wilson intervals), so the loose parts sum to the loose score; `responses` is
    how many judged responses got that category (zero categories included)."""
    judged = [o for o in outcomes if o.loose is not None]
    n = len(judged)
    names = sorted({o.category or UNKNOWN_CATEGORY for o in judged}, key=_category_order)
    out: dict[str, dict[str, object]] = {}
    for name in names:
        mine = [o for o in judged if (o.category or UNKNOWN_CATEGORY) == name]
        out[name] = {
            "responses": len(mine),
            "contradiction": Category(name).contradicts if name in Category._value2member_map_ else None,
            "loose": proportion(sum(bool(o.loose) for o in mine), n),
            "strict": proportion(sum(bool(o.strict) for o in mine), n),
            "n_unsure": sum(o.unsure for o in mine),
        }
    return out


def n_unsure(outcomes: Sequence[Outcome]) -> int:
    return sum(o.unsure for o in outcomes if o.loose is not None)


def breakdowns(keys: Sequence[dict[str, Any]], outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Scores per value of each breakdown key (language, area, template, mutator, generation);
    a key no row has is left out."""
    out: dict[str, dict[str, Any]] = {}
    for name in BREAKDOWNS:
        groups: dict[str, list[Outcome]] = {}
        for row, result in zip(keys, outcomes, strict=True):
            value = row.get(name)
            if value is None:
                continue
            groups.setdefault(str(value), []).append(result)
        if groups:
            out[name] = {value: scores(group) for value, group in sorted(groups.items())}
    return out
