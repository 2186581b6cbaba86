"""From answers to attributions: cross-fit, then per test model and family the mean probability,
its interval, the sign-flip p-value, Holm's correction and the decision (see stats.py)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from distillscope.naming import Naming, flag
from distillscope.rse.attribution import controls as calibration
from distillscope.rse.attribution import stats
from distillscope.rse.attribution.contrasts import fit_contrasts
from distillscope.rse.attribution.crossfit import (
    DEFAULT_FOLDS,
    DEFAULT_REPEATS,
    CountedDocs,
    CrossFit,
    Doc,
    crossfit,
)
from distillscope.rse.attribution.features import DEFAULT_FEATURES, FeatureSet
from distillscope.rse.attribution.types import FamilyProbability, HeldOutCheck, ModelAttribution
from distillscope.stats.intervals import mean_summary, wilson

METHOD = {
    "classifier": "logistic regression (balanced classes, L2 with C = 30) on TF-IDF of the 2,000 most frequent writing n-grams of each fold's training answers",
    "cross_fitting": "GroupKFold over prompts (5 folds, 3 shuffled repeats averaged): an answer is scored only by classifiers that never saw its prompt",
    "score": "mean over prompts of P(family); 95% expanded percentile bootstrap over prompts (Student's t below 6 prompts)",
    "p_value": "one-sided sign-flip test over prompts of P(family) - mean P(other families) <= 0",
    "decision": "predicted: the family with the highest mean P(family) (null only when no prompt was scored); significant: it is the single family with Holm-adjusted p < alpha; resembles (in decision): predicted when significant, else null (abstain)",
    "controls": "decision.distilled_from: per family F and control c_i, a classifier of F's members against the other controls (balanced classes, cross-fitted over prompts, never trained on the model or c_i) scores the model and c_i; d_i = mean over prompts of the difference; the single family whose contrasts are above 0 by a one-sided prediction t-test over the n contrasts (mean / (sd * sqrt(1 + 1/n)), n - 1 df; Holm over families); decision.scores: mean P(F rather than independent); each control judged the same way against the others, every classifier trained without both",
    "held_out_members": "(one fold split) each member of a family with two or more is left out of training and attributed like a test model: does the family's style reach a model the classifier never saw? At most 2 members per family are checked (chosen by the seed; the others are named in a warning)",
}


# A left-out member's check is one cross-fit of the family answers per member; repeating it over
# three fold splits (as the test models' scores are) tripled the run's cost for a warning whose
# verdict did not change across splits on MT-bench (bench/README.md, issue 11: seeds within 0.01).
MEMBER_REPEATS = 1
# Each checked member costs a whole cross-fit (one fit per fold): a 15-model bank of five families
# spent 75 of its 91 fits, about 80% of its time, on them (bench/banks.py). Two members per family
# still show whether the family's style reaches a model left out of training; a third adds time.
MEMBERS_PER_FAMILY = 2


@dataclass
class Attribution:
    """Everything the analysis found: per-model results, the family check, the fit itself."""

    models: dict[str, ModelAttribution]
    held_out: dict[str, HeldOutCheck]
    fit: CrossFit
    held_out_members: dict[str, ModelAttribution] = field(default_factory=dict)
    controls: dict[str, ModelAttribution] = field(default_factory=dict)
    counted: CountedDocs | None = None  # the run's answers tokenised once (word features)


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def attribute_model(
    probabilities: np.ndarray, groups: Sequence[str], families: Sequence[str], *, alpha: float, seed: int = 0
) -> ModelAttribution:
    """One test model's attribution from its answers' probabilities (rows) and prompt groups."""
    raw: dict[str, tuple[float | None, list[float | None], float, float]] = {}
    lean_ci: dict[str, list[float | None]] = {}
    p_values: dict[str, float] = {}
    n_prompts = len(set(groups))
    for j, family in enumerate(families):
        per_prompt = stats.prompt_means(list(probabilities[:, j]), groups)
        lean = stats.prompt_means(list(stats.leanings(probabilities, j)), groups)
        mean, ci = stats.mean_with_interval(list(per_prompt), seed=seed)
        p_values[family] = stats.sign_flip_pvalue(list(lean), seed=seed + j)
        lean_ci[family] = stats.mean_with_interval(list(lean), seed=seed, bounds=(-1.0, 1.0))[1]
        raw[family] = (mean, ci, float(lean.mean()) if lean.size else 0.0, p_values[family])
    adjusted = stats.holm(p_values)
    out = {
        f: FamilyProbability(
            score=_r(mean),
            ci95=(_r(ci[0]), _r(ci[1])),
            p_value=_r(p) or 0.0,
            p_holm=_r(adjusted[f]) or 0.0,
            lean=_r(lean),
            lean_ci95=(_r(lean_ci[f][0]), _r(lean_ci[f][1])),
        )
        for f, (mean, ci, lean, p) in raw.items()
    }
    scored = {f: m for f, (m, _, _, _) in raw.items() if m is not None}
    predicted = max(scored, key=lambda f: (scored[f], -adjusted[f])) if n_prompts and scored else None
    return ModelAttribution(
        predicted=predicted,
        significant=predicted is not None and stats.decide(adjusted, alpha) == predicted,
        probabilities=out,
        n=int(probabilities.shape[0]),
        n_prompts=n_prompts,
    )


def held_out_check(fit: CrossFit) -> dict[str, HeldOutCheck]:
    """Per family: how often its own answers, out of fold, are classified as its own."""
    out: dict[str, HeldOutCheck] = {}
    for j, family in enumerate(fit.families):
        rows = [i for i, d in enumerate(fit.docs) if d.family == family]
        if not rows:
            out[family] = HeldOutCheck(accuracy=None, mean_own_probability=None, n=0)
            continue
        proba = fit.probabilities[rows]
        right = (proba.argmax(axis=1) == j).astype(float).tolist()
        groups = [fit.docs[i].group for i in rows]
        bounds = mean_summary(right, clusters=groups, bounds=(0.0, 1.0))["ci95"]
        lo, hi = bounds if isinstance(bounds, list) else (None, None)
        # where every answer is right (or wrong) the bootstrap has no spread: Wilson's interval with one
        # trial per prompt (its answers counted as one) keeps it from claiming certainty
        prompts = len(set(groups))
        w_lo, w_hi = wilson(float(np.mean(right)) * prompts, prompts)
        lo = round(w_lo, 6) if lo is None else min(lo, round(w_lo, 6))
        hi = round(w_hi, 6) if hi is None else max(hi, round(w_hi, 6))
        own = mean_summary(proba[:, j].tolist(), clusters=groups, bounds=(0.0, 1.0))["ci95"]
        own_lo, own_hi = own if isinstance(own, list) else (None, None)
        out[family] = HeldOutCheck(
            accuracy=_r(float(np.mean(right))),
            mean_own_probability=_r(float(proba[:, j].mean())),
            mean_own_probability_ci95=(own_lo, own_hi),
            n=len(rows),
            ci95=(lo, hi),
            n_prompts=prompts,
        )
    return out


def separability_warnings(held_out: Mapping[str, HeldOutCheck]) -> list[str]:
    """Families whose own answers, out of fold, are barely recognised: attributions to them mean little."""
    chance = 1 / max(1, len(held_out))
    return [
        f"family {f}: its own answers are classified as {f} only {c.accuracy:.0%} of the time out of fold "
        f"(chance {chance:.0%}); the families are hard to tell apart, so attributions mean little"
        for f, c in held_out.items()
        if c.accuracy is not None and c.accuracy < chance + 0.1
    ]


def held_out_members(
    family_docs: Sequence[Doc],
    *,
    alpha: float,
    seed: int = 0,
    folds: int = DEFAULT_FOLDS,
    features: FeatureSet = DEFAULT_FEATURES,
    repeats: int = MEMBER_REPEATS,
    counted: CountedDocs | None = None,
    per_family: int | None = MEMBERS_PER_FAMILY,
    start: CrossFit | None = None,
    naming: Naming = flag,
) -> dict[str, ModelAttribution]:
    """Each member of a family with two or more (at most `per_family` of them, `checked_members`),
    attributed by classifiers fitted without any of its answers: the prompt-level test cannot see
    whether a family's style reaches an unseen model. `counted` (the run's answers tokenised once)
    is shared by these cross-fits; with `start` (the run's main cross-fit, same seed) each fold's
    fit starts from that fold's all-member solution (crossfit.Solution)."""
    out: dict[str, ModelAttribution] = {}
    chosen = checked_members(family_docs, per_family=per_family, seed=seed)
    for model, family in _members(family_docs).items():
        if model not in chosen:
            continue
        rest = [d for d in family_docs if d.model != model]
        if not any(d.family == family for d in rest):
            continue  # its family's only member: nothing would be left to define the family
        own = [d for d in family_docs if d.model == model]
        fit = crossfit(
            rest,
            own,
            folds=folds,
            seed=seed,
            features=features,
            repeats=repeats,
            counted=counted,
            start=start,
            naming=naming,
        )
        out[model] = attribute_model(
            fit.probabilities[len(rest) :], [d.group for d in own], fit.families, alpha=alpha, seed=seed
        )
    return out


def _members(family_docs: Sequence[Doc]) -> dict[str, str]:
    """Model -> its family, in first-seen order."""
    return {d.model: d.family for d in family_docs if d.family is not None}


def checked_members(
    family_docs: Sequence[Doc], *, per_family: int | None = MEMBERS_PER_FAMILY, seed: int = 0
) -> set[str]:
    """The members whose left-out check is run: every member of a family of two or more, or
    `per_family` of them drawn with the seed from its sorted names (so the order the families'
    models were given in, by hand or from a bank, does not change the draw)."""
    by_family: dict[str, list[str]] = {}
    for model, family in _members(family_docs).items():
        by_family.setdefault(family, []).append(model)
    out: set[str] = set()
    for family, models in by_family.items():
        if len(models) < 2:
            continue
        names = sorted(models)
        if per_family is not None and len(names) > per_family:
            names = random.Random(f"{seed}:{family}").sample(names, per_family)
        out.update(names)
    return out


def unchecked_member_warnings(
    held_out: Mapping[str, ModelAttribution], family_docs: Sequence[Doc]
) -> list[str]:
    """Members of families of two or more whose left-out check was not run (the per-family cap)."""
    by_family: dict[str, list[str]] = {}
    for model, family in _members(family_docs).items():
        by_family.setdefault(family, []).append(model)
    out = []
    for family, models in by_family.items():
        skipped = [m for m in models if m not in held_out]
        if len(models) >= 2 and skipped:
            out.append(
                f"family {family}: {len(models) - len(skipped)} of its {len(models)} members were checked "
                f"left out of training (at most {MEMBERS_PER_FAMILY} per family, drawn by the seed); not "
                f"checked: {', '.join(skipped)}"
            )
    return out


def member_warnings(
    held_out: Mapping[str, ModelAttribution], family_docs: Sequence[Doc], alpha: float
) -> list[str]:
    """Members that, left out of training, are not attributed to their own family."""
    family_of = _members(family_docs)
    out = []
    for model, found in held_out.items():
        family = family_of[model]
        if found.resembles == family:
            continue
        if found.resembles:
            verdict = f"is attributed to {found.resembles}"
        elif found.predicted == family:
            verdict = "resembles it most, but not significantly"
        else:
            verdict = f"resembles {found.predicted} most (not significantly)"
        score = found.probabilities[family].score
        out.append(
            f"family {family}: its member {model}, left out of training, {verdict} at alpha {alpha} "
            f"(mean P({family}) {score:.3f}): the classifier tells these particular models apart more "
            f"than a style {family} shares, so a model with a lean of its own may be attributed to a "
            "family it was not trained on (see bench/README.md)"
        )
    return out


def attribute(
    family_docs: Sequence[Doc],
    test_docs: Mapping[str, Sequence[Doc]],
    *,
    control_docs: Mapping[str, Sequence[Doc]] | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    folds: int = DEFAULT_FOLDS,
    features: FeatureSet = DEFAULT_FEATURES,
    repeats: int = DEFAULT_REPEATS,
    check_members: bool = True,
    naming: Naming = flag,
) -> Attribution:
    """Cross-fit on the family answers, then attribute every test model and every control (and,
    with `check_members`, every family member left out of training). With two or more controls each
    test model gets a decision against all of them, and each control one against the others.
    `naming`: how its errors name a setting (the CLI's flag, the API's keyword)."""
    controls_in = dict(control_docs or {})
    scored = {**test_docs, **controls_in}
    flat = [d for docs in scored.values() for d in docs]
    counted = CountedDocs([*family_docs, *flat]) if features == "word" else None
    fit = crossfit(
        family_docs, flat, folds=folds, seed=seed, features=features, repeats=repeats, counted=counted,
        naming=naming,
    )  # fmt: skip
    start = len(family_docs)
    found: dict[str, ModelAttribution] = {}
    for name, docs in scored.items():
        rows = np.arange(start, start + len(docs))
        start += len(docs)
        groups = [d.group for d in docs]
        found[name] = attribute_model(fit.probabilities[rows], groups, fit.families, alpha=alpha, seed=seed)
    models = {name: found[name] for name in test_docs}
    controls = {name: found[name] for name in controls_in}
    contrasts = (
        fit_contrasts(
            family_docs,
            controls_in,
            test_docs,
            folds=folds,
            seed=seed,
            counted=counted,
            pairs=len(controls_in) - 1 >= calibration.MIN_CONTROLS,
        )
        if len(controls_in) >= calibration.MIN_CONTROLS
        else None
    )
    for name, result in models.items():
        test = calibration.judge_against(name, list(controls), contrasts) if contrasts else None
        result.decision = calibration.decide(
            test, resembles=result.resembles, n_controls=len(controls), alpha=alpha,
            resembles_p=_resembles_p(result),
        )  # fmt: skip
    for name, result in controls.items():
        others = [c for c in controls if c != name]
        test = (
            calibration.judge_against(name, others, contrasts)
            if contrasts and len(others) >= calibration.MIN_CONTROLS
            else None
        )
        result.decision = calibration.decide(
            test, resembles=result.resembles, n_controls=len(others), alpha=alpha,
            resembles_p=_resembles_p(result),
        )  # fmt: skip
    members = (
        held_out_members(
            family_docs,
            alpha=alpha,
            seed=seed,
            folds=folds,
            features=features,
            repeats=min(repeats, MEMBER_REPEATS),
            counted=counted,
            start=fit,
            naming=naming,
        )
        if check_members
        else {}
    )
    return Attribution(models, held_out_check(fit), fit, members, controls, counted)


def _resembles_p(result: ModelAttribution) -> float | None:
    """The Holm-adjusted p of the per-prompt test that named the family the model resembles."""
    if result.resembles is None:
        return None
    return result.probabilities[result.resembles].p_holm


def control_warnings(controls: Mapping[str, ModelAttribution], naming: Naming = flag) -> list[str]:
    """What is missing for a 'distilled from' claim, and controls the run itself calls distilled.
    `naming`: how the warning names the setting that gives controls (the CLI's flag, the API's keyword)."""
    if not controls:
        return [
            f"no control models ({naming('controls')}): without independent models to compare with, resemblance to a family "
            "is not evidence of distillation, so no 'distilled from' decision is made (give two or more "
            "models known not to be trained on any family's outputs, e.g. ones trained on human-written data)"
        ]
    out = []
    n = len(controls)
    k = max((len(r.probabilities) for r in controls.values()), default=1)
    needed = 20 * k  # 1/(n+1) < 0.05/k: Holm's first step over k families
    if n < needed:
        out.append(
            f"{n} controls: a rank test over models can never go below 1/({n}+1) = {1 / (n + 1):.3g}; "
            "the decision's p-value comes from a prediction t-test over the contrasts against each control, "
            "which assumes the models' effects spread normally (an assumption-free rank test passes Holm's "
            f"correction over {k} families at 0.05 only with {needed} or more controls)"
        )
    check = calibration.FalsePositiveCheck.of({c: r.decision for c, r in controls.items()})
    if check.called:
        out.append(
            f"false-positive check: {len(check.called)} of {n} controls, each left out of the controls, are "
            f"called distilled ({', '.join(check.called)}): the decision is not protecting independent models here"
        )
    if check.abstained:
        reasons = {
            r.decision.reason
            for c, r in controls.items()
            if c in check.abstained and r.decision is not None and r.decision.reason
        }
        why = f" ({'; '.join(sorted(reasons))})" if reasons else ""
        out.append(
            f"false-positive check not made for {len(check.abstained)} of {n} controls "
            f"({', '.join(check.abstained)}): each abstained with itself left out{why}; "
            "give more controls or more prompts"
        )
    return out


def probability_rows(fit: CrossFit, controls: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Lines of probabilities.jsonl: every scored answer with its fold and family probabilities."""
    roles = dict.fromkeys(controls, "control")
    return [
        {
            "model": d.model,
            "role": "family" if d.family is not None else roles.get(d.model, "test"),
            "family": d.family,
            "key": d.key,
            "prompt_group": d.group,
            "folds": [fit.fold(d, r) for r in range(fit.repeats)],
            "probabilities": {f: round(float(p), 6) for f, p in zip(fit.families, row, strict=True)},
        }
        for d, row in zip(fit.docs, fit.probabilities, strict=True)
    ]
