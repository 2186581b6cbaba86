"""`rse run` and `rse matrix` results: similarity to a reference, and between every pair."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from distillscope.results.base import Mean, Model, Result
from distillscope.results.registry import register

RSE_ASPECTS = ("style", "logic", "content")


class RseModelScores(Model):
    """One model's similarity to the reference: per dataset and the average over datasets."""

    datasets: dict[str, Mean] = Field(default_factory=dict)
    avg: Mean | None = None


class Paired(Model):
    """mean(a - b) over the prompts both test models had judged, per dataset and averaged."""

    a: str
    b: str
    difference: str = "a - b (positive: a is closer to the reference)"
    datasets: dict[str, Mean] = Field(default_factory=dict)
    avg: Mean | None = None


class ContrastModel(Model):
    """Similarity beyond the panel's typical similarity, per measure (overall, aspects, raw)."""

    score: float | None = None
    in_panel: bool = True
    measures: dict[str, Mean] = Field(default_factory=dict)


class Contrast(Model):
    definition: str = ""
    panel: list[str] = Field(default_factory=list)
    models: dict[str, ContrastModel] = Field(default_factory=dict)


class FoilModel(Model):
    """One test model's similarity to the reference and to the foils, paired over prompts."""

    reference: Mean
    foils: Mean
    difference: Mean  # reference minus the foils' mean: the distillation signal
    per_foil: dict[str, Mean] = Field(default_factory=dict)


class Foils(Model):
    """`rse run --foil`: closer to the reference than to equally capable independent models?"""

    definition: str = ""
    foils: list[str] = Field(default_factory=list)
    models: dict[str, FoilModel] = Field(default_factory=dict)


class NotAnswers(Model):
    """A model's replies that were no answers: empty completions and content-filter stops (never scored)."""

    empty: int = 0
    filtered: int = 0
    ids: dict[str, list[str]] = Field(default_factory=dict)  # outcome -> "dataset/key"


class Missing(Model):
    """Prompts a model has no answer for (skipped, never scored)."""

    count: int = 0
    ids: dict[str, list[str]] = Field(default_factory=dict)  # dataset -> prompt ids
    reasons: dict[str, int] = Field(default_factory=dict)  # reason -> how many


class RseMissing(Model):
    reference: Missing = Field(default_factory=Missing)
    models: dict[str, Missing] = Field(default_factory=dict)


class _Judged(Result):
    judge: str = ""
    datasets: dict[str, Any] = Field(default_factory=dict)  # dataset name -> its summary (source, n)
    judge_settings: dict[str, Any] | None = None

    def to_frame(self) -> Any:
        """One row per (model, dataset, prompt) judgment from judgments.jsonl, aspects flattened."""
        from distillscope.results.frames import jsonl_frame

        return jsonl_frame(self._path, "judgments.jsonl")


@register
class RseResult(_Judged):
    """results.json of `rse run`."""

    kind: Literal["rse"] = "rse"
    reference: str
    models: dict[str, RseModelScores] = Field(default_factory=dict)
    panel: dict[str, RseModelScores] | None = None
    paired: list[Paired] | None = None
    contrast: Contrast | None = None
    missing: RseMissing | None = None
    n_unjudged: int | None = None
    not_answers: dict[str, NotAnswers] | None = None  # per model: empty and filtered answers
    foils: Foils | None = None
    warnings: list[str] = Field(default_factory=list)  # e.g. the judge is the reference's own maker
    n_empty: int | None = None
    n_filtered: int | None = None
    skipped: dict[str, dict[str, int]] | None = None  # per model: pairs not scored, by reason

    @property
    def dataset_names(self) -> list[str]:
        seen: dict[str, None] = dict.fromkeys(self.datasets)
        for scores in self.models.values():
            seen.update(dict.fromkeys(scores.datasets))
        return list(seen)


@register
class MatrixResult(_Judged):
    """results.json of `rse matrix`: `scores[i][j]` is the similarity of models i and j."""

    kind: Literal["matrix"] = "matrix"
    models: list[str]
    scores: list[list[float | None]]
    aspects: dict[str, list[list[float | None]]] = Field(default_factory=dict)
    n: list[list[int]] | None = None
    # each cell's 95% bootstrap interval over prompts [low, high] (None where nothing to resample)
    ci95: list[list[tuple[float | None, float | None]]] | None = None
    # the same for each aspect's cell (`aspects`); n is the cell's
    aspects_ci95: dict[str, list[list[tuple[float | None, float | None]]]] | None = None
    linkage: list[list[float]] | None = None
    order: list[int] | None = None
    clustering: dict[str, Any] | None = None
    missing: dict[str, Missing] | None = None
    skipped: dict[str, dict[str, int]] | None = None  # per cell "a vs b": pairs not scored, by reason
    not_answers: dict[str, NotAnswers] | None = None  # per model: empty and filtered answers

    def cell(self, i: int, j: int, sep: str = " ") -> str:
        """`2.81 [2.69, 2.95] n=160`: a cell's similarity with its interval and n (`sep` between)."""
        value = self.scores[i][j]
        if value is None:
            return "n/a"
        parts = [f"{value:.2f}"]
        lo, hi = self.ci95[i][j] if self.ci95 is not None else (None, None)
        if lo is not None and hi is not None:
            parts.append(f"[{lo:.2f}, {hi:.2f}]")
        if self.n is not None:
            parts.append(f"n={self.n[i][j]}")
        return sep.join(parts)
