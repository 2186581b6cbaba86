"""Contrast: similarity to the reference beyond what independent models typically reach.

Plain similarity to the reference mostly measures answer quality: every good model says roughly
what the reference says. Contrast subtracts, prompt by prompt, the typical similarity of a panel
of other models answering the same prompt:

    contrast[m, p] = s[m, p] - median{ s[k, p] : k in panel, k != m }

where s is one similarity measure (an aspect on the 1-5 scale, the overall score, or a raw measure
such as the embedding cosine). The panel defaults to all test models, leaving the model scored out
of its own panel (leave-one-out). A model's contrast is the mean over the prompts every panel member
answered, with a bootstrap 95% interval over prompts (`stats.intervals.mean_summary`); 0 means "as similar as a typical
panel model", positive means closer to the reference than the panel is. Taking the median per
prompt removes prompt difficulty (prompts where every answer agrees count no more than prompts
where they differ) and is robust to a few panel models that are themselves copies of the reference.

`standardised` divides each prompt's contrast by the panel's spread on that prompt (the
interquartile range / 1.349, a robust standard deviation, floored at 0.05 of the measure's scale),
so prompts where the panel disagrees a lot weigh less. Nothing here looks at any label: the panel
is unlabelled, and the definition is fixed in advance.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from distillscope.rse.types import ASPECTS, RAW_COUNTS, AspectScores
from distillscope.stats.intervals import mean_summary

MEASURES = (*ASPECTS, "overall")
MIN_PANEL = 2  # panel members besides the model scored


def measure_value(scores: AspectScores, measure: str) -> float | None:
    """An aspect or overall (1-5), or a raw measurement by its key."""
    if measure in MEASURES:
        return float(getattr(scores, measure))
    value = scores.raw.get(measure)
    return None if value is None else float(value)


def _table(
    sim: Mapping[str, Mapping[str, float]], models: Sequence[str], prompts: Sequence[str]
) -> NDArray[np.float64]:
    out = np.full((len(models), len(prompts)), np.nan)
    for i, m in enumerate(models):
        row = sim.get(m, {})
        for j, p in enumerate(prompts):
            if p in row and row[p] is not None:
                out[i, j] = row[p]
    return out


def contrast_matrix(
    sim: Mapping[str, Mapping[str, float]],
    panel: Sequence[str] | None = None,
    *,
    standardised: bool = False,
    scale: float = 4.0,
) -> dict[str, dict[str, float]]:
    """Per model, per prompt: similarity minus the leave-one-out panel median on that prompt.

    `sim[model][prompt_id]` is one similarity measure; `panel` defaults to every model in `sim`;
    models outside the panel are scored against the whole panel. A prompt is left out for a
    model when the model has no value there or fewer than MIN_PANEL other panel members do.
    `scale` is the measure's range (4 for 1-5 scores, 1 for raw similarities), used only to floor
    the spread when `standardised`.
    """
    models = list(sim)
    panel = list(panel) if panel is not None else models
    prompts = sorted({p for row in sim.values() for p in row})
    values = _table(sim, models, prompts)
    pan = _table(sim, panel, prompts)
    out: dict[str, dict[str, float]] = {}
    for i, model in enumerate(models):
        others = pan[[k for k, p in enumerate(panel) if p != model]]
        enough = np.sum(~np.isnan(others), axis=0) >= MIN_PANEL
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            base = np.nanmedian(others, axis=0) if others.size else np.full(len(prompts), np.nan)
            diff = values[i] - base
            if standardised:
                q75, q25 = np.nanpercentile(others, [75, 25], axis=0) if others.size else (base, base)
                spread = np.maximum((q75 - q25) / 1.349, 0.05 * scale)
                diff = diff / spread
        keep = enough & ~np.isnan(diff)
        out[model] = {prompts[j]: float(diff[j]) for j in np.flatnonzero(keep)}
    return out


@dataclass
class ContrastResult:
    """One model's contrast per measure: {"score", "n", "ci95"} each; `score` is the overall one."""

    model: str
    measures: dict[str, dict[str, Any]] = field(default_factory=dict)
    in_panel: bool = True

    @property
    def score(self) -> float | None:
        value = self.measures.get("overall", {}).get("score")
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "in_panel": self.in_panel, "measures": self.measures}


def contrast_scores(
    sim: Mapping[str, Mapping[str, AspectScores | None]],
    panel: Sequence[str] | None = None,
    *,
    measures: Iterable[str] | None = None,
    standardised: bool = False,
    seed: int = 0,
    prompt_of: Callable[[str], str] | None = None,
) -> dict[str, ContrastResult]:
    """Contrast of every model in `sim` (model -> prompt id -> scores), per measure.

    `measures` defaults to the three aspects, overall, and every raw key all scores share but the
    counts of how a rating was made (`types.RAW_COUNTS`: an LLM judge's `orders`, a panel's
    `judges_answered`), which were shown as contrast measures with a [0.000, 0.000] interval.
    `prompt_of` maps an id to its prompt where ids are turns of multi-turn prompts: the intervals
    then resample a prompt's turns together.
    """
    all_scores = [s for row in sim.values() for s in row.values() if s is not None]
    if measures is None:
        shared = set.intersection(*(set(s.raw) for s in all_scores)) - RAW_COUNTS if all_scores else set()
        measures = [*MEASURES, *sorted(shared)]
    panel_list = list(panel) if panel is not None else list(sim)
    results = {m: ContrastResult(m, in_panel=m in panel_list) for m in sim}
    for measure in measures:
        table: dict[str, dict[str, float]] = {}
        for model, row in sim.items():
            table[model] = {}
            for pid, scores in row.items():
                value = None if scores is None else measure_value(scores, measure)
                if value is not None:
                    table[model][pid] = value
        per_prompt = contrast_matrix(
            table, panel_list, standardised=standardised, scale=4.0 if measure in MEASURES else 1.0
        )
        for model, row2 in per_prompt.items():
            ids = sorted(row2)
            clusters = [prompt_of(p) for p in ids] if prompt_of is not None else None
            results[model].measures[measure] = mean_summary(
                [row2[p] for p in ids], seed=seed, clusters=clusters, bounds=_bounds(measure, standardised)
            )
    return results


def _bounds(measure: str, standardised: bool) -> tuple[float, float] | None:
    """The range a contrast's mean cannot leave, where intervals are cut: a 1-5 measure less a 1-5
    median lies in -4 to 4. A raw measure's range is not known, nor a standardised one's."""
    return (-4.0, 4.0) if measure in MEASURES and not standardised else None


def _conversation(pid: str) -> str:
    """The prompt of a `dataset/turn key/turn` id (`contrast_from_judgments`)."""
    from distillscope.rse.responses import prompt_of

    dataset_and_key = pid.rsplit("/", 1)[0]
    return prompt_of(dataset_and_key)


def contrast_from_judgments(
    judgments: Mapping[str, Sequence[Any]], panel: Mapping[str, Sequence[Any]], *, seed: int = 0
) -> dict[str, Any]:
    """The `contrast` block of `rse run`'s results.json from scoring.Judgment lists.

    Test models and extra panel models together form the panel (leave-one-out); a prompt is keyed by
    dataset, prompt id and turn. Judgments without scores (unjudged, missing) are left out.
    """
    sim: dict[str, dict[str, AspectScores | None]] = {}
    for model, items in {**judgments, **panel}.items():
        sim[model] = {
            f"{j.dataset}/{j.key}/{getattr(j, 'turn', 1)}": j.scores
            for j in items
            if getattr(j, "scores", None) is not None
        }
    results = contrast_scores(sim, list(sim), seed=seed, prompt_of=_conversation)
    return {
        "definition": "per prompt: similarity minus the median similarity of the other panel models; mean over prompts",
        "panel": sorted(sim),
        "models": {m: results[m].to_dict() for m in judgments},
    }


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """ROC AUC = P(a positive outranks a negative), ties counting half (Mann-Whitney U / n1 n2)."""
    from scipy.stats import mannwhitneyu

    if not positives or not negatives:
        raise ValueError("ROC AUC needs at least one positive and one negative")
    u = mannwhitneyu(positives, negatives, alternative="two-sided").statistic
    return float(u) / (len(positives) * len(negatives))
