"""Foils: is a test model closer to the reference than to equally capable independent models?

Similarity to the reference alone rises with answer quality. With `--foil` models (independent
models of comparable ability) every test answer is also judged against each foil's answer to the
same prompt, by the same judge, and per prompt

    difference[m, p] = s(m, reference)[p] - mean_f s(m, foil_f)[p]

A model's difference is the mean over the prompts where the reference and at least one foil were
judged, with a bootstrap 95% interval over those prompts (`stats.intervals.mean_summary`) (paired: the same prompts on
both sides). Positive: the model's answers track the reference more than they track the foils,
which is the distillation signal; around 0: it is as close to the foils as to the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from distillscope.rse.responses import prompt_of
from distillscope.rse.scoring import DIFFERENCE, RATING, Judgment
from distillscope.stats.intervals import mean_summary

DEFINITION = "per prompt: similarity to the reference minus mean similarity to the foils; mean over prompts"


def _overall(judgments: Sequence[Judgment]) -> dict[tuple[str, str], float]:
    return {(j.dataset, j.key): j.value("overall") for j in judgments if j.status == "judged" and j.scores}


def _prompts(keys: Sequence[tuple[str, str]]) -> list[str]:
    """Each turn's prompt, so that the intervals resample a prompt's turns together."""
    return [f"{dataset}/{prompt_of(key)}" for dataset, key in keys]


def foil_comparison(
    to_reference: Mapping[str, Sequence[Judgment]],
    to_foils: Mapping[str, Mapping[str, Sequence[Judgment]]],
    foils: Sequence[str],
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """The `foils` block of `rse run`'s results.json (overall similarity, 1-5)."""
    models: dict[str, Any] = {}
    for model, judged in to_reference.items():
        ref = _overall(judged)
        per_foil = {f: _overall(to_foils.get(model, {}).get(f, ())) for f in foils}
        common = sorted(k for k in ref if any(k in per_foil[f] for f in foils))
        foil_mean = [float(np.mean([per_foil[f][k] for f in foils if k in per_foil[f]])) for k in common]
        models[model] = {
            "reference": mean_summary(
                [ref[k] for k in common], seed=seed, clusters=_prompts(common), bounds=RATING
            ),
            "foils": mean_summary(foil_mean, seed=seed, clusters=_prompts(common), bounds=RATING),
            "difference": mean_summary(
                [ref[k] - v for k, v in zip(common, foil_mean, strict=True)],
                seed=seed,
                clusters=_prompts(common),
                bounds=DIFFERENCE,
            ),
            "per_foil": {
                f: mean_summary(
                    list(per_foil[f].values()), seed=seed, clusters=_prompts(list(per_foil[f])), bounds=RATING
                )
                for f in foils
            },
        }
    return {"definition": DEFINITION, "foils": list(foils), "models": models}
