"""The homogenization matrix: every pair of models scored on the same prompts, whoever the reference,
then clustered, so models that answer alike show up as a branch of the dendrogram.

Each unordered pair (i, j) is judged once with i as the reference (the offline judge is symmetric;
an LLM judge with --swap judges both orders) and mirrored, so the matrix is symmetric. The diagonal
is each model judged against itself, which both judges score 5. A cell is the mean over datasets
of the mean overall similarity on the items both models answered.

Clustering: average linkage (scipy) on the distance 5 - similarity. results.json keeps the linkage
matrix and the dendrogram's leaf order for the report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from distillscope.engine.run import RunContext, write_jsonl
from distillscope.errors import BudgetExhausted, UserError
from distillscope.jsonl import AtomicJsonlWriter
from distillscope.results.rse import MatrixResult
from distillscope.rse.datasets import Dataset
from distillscope.rse.judging import JudgeOptions, build_judge, judge_against, judge_settings
from distillscope.rse.responses import ModelAnswers
from distillscope.rse.runner import (
    Contestant,
    answer_all,
    check_names,
    check_replay_coverage,
    require_some_answers,
)
from distillscope.rse.scoring import Judgment, model_summary, skipped_pairs
from distillscope.rse.types import ASPECTS, SimilarityJudge

MAX_SCORE = 5.0

log = logging.getLogger("distillscope")


def cluster(scores: Sequence[Sequence[float | None]]) -> tuple[list[list[float]] | None, list[int]]:
    """(scipy linkage rows, dendrogram leaf order) from a symmetric similarity matrix; no linkage
    (None, the models in their order) where no two models were scored against each other.

    An unscored pair counts as the least similar pair of two models seen. The diagonal (each model
    against itself, 5 by definition) is no such pair: where every pair of models was unjudged it
    made the fill 5, and the dendrogram joined every model at distance 0, "identical", from no
    rating at all."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    size = len(scores)
    if size < 2:
        return None, list(range(size))
    sims = np.array([[np.nan if v is None else float(v) for v in row] for row in scores], dtype=float)
    between = sims[~np.eye(size, dtype=bool)]
    finite = between[np.isfinite(between)]
    if not finite.size:
        return None, list(range(size))
    fill = float(finite.min())
    dist = np.clip(MAX_SCORE - np.nan_to_num(sims, nan=fill), 0.0, None)
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0.0)
    link = linkage(squareform(dist, checks=False), method="average")
    return [[round(float(v), 6) for v in row] for row in link], [int(i) for i in leaves_list(link)]


def _cell(summary: dict[str, Any], aspect: str | None = None) -> float | None:
    avg = summary["avg"] if aspect is None else summary["avg"]["aspects"][aspect]
    score = avg.get("score")
    return None if score is None else float(score)


async def run_matrix(
    ctx: RunContext,
    *,
    models: Sequence[Contestant],
    datasets: Sequence[Dataset],
    judge_options: JudgeOptions,
    settings: dict[str, Any] | None = None,
    judge: SimilarityJudge | None = None,
    allow_missing: bool = False,
) -> MatrixResult:
    """Answers, pairwise judgments, matrix and clustering; returns what it wrote to results.json."""
    name = ctx.options.naming
    if len(models) < 2:
        raise UserError(f"rse matrix needs at least two {name('models')}")
    check_names(models, "models", name)
    check_replay_coverage(models, datasets, allow_missing=allow_missing, name=name)
    names = [m.name for m in models]
    ds_names = [d.name for d in datasets]
    size = len(models)
    results: dict[str, Any] = {
        "models": names,
        "scores": [[None] * size for _ in range(size)],
        "judge": judge_options.spec,
        "datasets": {d.name: d.summary() for d in datasets},
        "settings": settings or {},
        "complete": False,
    }
    seed = int((settings or {}).get("seed", 0) or 0)
    for warning in (w for d in datasets if (w := d.warning())):
        log.warning("rse matrix: %s", warning)  # and each dataset's summary counts them
    try:
        answers: list[ModelAnswers] = await answer_all(ctx, models, datasets)
        for a in answers:
            require_some_answers(a)
        write_jsonl(
            ctx.out / "responses.jsonl", [r.row(a.name, "model") for a in answers for r in a.answers.values()]
        )
        results["missing"] = {a.name: a.missing() for a in answers}
        results["not_answers"] = {a.name: a.not_answers() for a in answers}
        judge = judge or build_judge(ctx, judge_options)
        results["judge"] = judge.name
        scores: list[list[float | None]] = [[None] * size for _ in range(size)]
        aspects: dict[str, list[list[float | None]]] = {
            a: [[None] * size for _ in range(size)] for a in ASPECTS
        }
        counts: list[list[int]] = [[0] * size for _ in range(size)]
        intervals: list[list[tuple[float | None, float | None]]] = [
            [(None, None)] * size for _ in range(size)
        ]
        aspect_intervals: dict[str, list[list[tuple[float | None, float | None]]]] = {
            a: [[(None, None)] * size for _ in range(size)] for a in ASPECTS
        }
        skipped: dict[str, dict[str, int]] = {}  # every pair not scored, by reason, per cell
        with AtomicJsonlWriter(ctx.out / "judgments.jsonl") as judgments_file:  # one pair at a time
            for i in range(size):
                for j in range(i, size):
                    judged: list[Judgment] = await judge_against(judge, answers[i], answers[j], name=names[j])
                    skipped[f"{names[i]} vs {names[j]}"] = skipped_pairs(judged)
                    summary = model_summary(judged, ds_names, seed=seed)
                    for a_, b_ in ((i, j), (j, i)):
                        scores[a_][b_] = _cell(summary)
                        counts[a_][b_] = int(summary["avg"]["n"])
                        lo, hi = summary["avg"]["ci95"]
                        intervals[a_][b_] = (lo, hi)
                        for aspect in ASPECTS:
                            aspects[aspect][a_][b_] = _cell(summary, aspect)
                            a_lo, a_hi = summary["avg"]["aspects"][aspect]["ci95"]
                            aspect_intervals[aspect][a_][b_] = (a_lo, a_hi)
                    for j_ in judged:
                        judgments_file.write({**j_.row(), "reference": names[i]})
            judgments_file.commit()
        link, order = cluster(scores)
        results.update(
            scores=scores,
            aspects=aspects,
            aspects_ci95=aspect_intervals,
            n=counts,
            ci95=intervals,
            linkage=link,
            order=order,
            clustering={"method": "average", "distance": f"{MAX_SCORE:g} - similarity", "library": "scipy"},
            judge_settings=judge_settings(judge, judge_options),
            skipped=skipped,
            complete=True,
        )
    except BudgetExhausted as exc:
        results["stop_reason"] = str(exc)
    ctx.cut_answers()  # judged as cut: say so (matrix results hold no warnings)
    results["run"] = ctx.run_summary()
    typed = MatrixResult.model_validate(results)
    typed.write(ctx.out)
    return typed
