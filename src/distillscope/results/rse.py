"""`rse run` and `rse matrix` results: similarity to a reference, and between every pair."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from distillscope.results.base import ROUNDING, Mean, Model, Result, check_interval, impossible
from distillscope.results.registry import register

RSE_ASPECTS = ("style", "logic", "content")
SCALE: tuple[float, float] = (1.0, 5.0)  # every similarity a judge gives, and so every mean of them


def check_similarity(*values: float | None, what: str = "") -> None:
    """Each value a similarity on the judges' 1-5 scale (to the 6 decimals files hold). A hand-edited
    or foreign results.json with a 7.5 or a -2 was charted as it stood, off the figure's axis; it is
    refused, naming the field, as a NaN is."""
    lo, hi = SCALE
    for value in values:
        if value is not None and not lo - ROUNDING <= value <= hi + ROUNDING:
            raise impossible(f"{what}a similarity lies on the 1-5 scale; {value} is outside it")


def _check_similarity_mean(mean: Mean | None, what: str = "") -> None:
    """A mean of similarities, its interval's ends and its aspects' means all on the 1-5 scale."""
    if mean is None:
        return
    check_similarity(mean.score, *mean.ci95, what=what)
    for aspect, part in mean.aspects.items():
        _check_similarity_mean(part, f"{what}aspect '{aspect}': ")


class RseModelScores(Model):
    """One model's similarity to the reference: per dataset and the average over datasets."""

    datasets: dict[str, Mean] = Field(default_factory=dict)
    avg: Mean | None = None

    @model_validator(mode="after")
    def _on_the_scale(self) -> RseModelScores:
        for name, mean in self.datasets.items():
            _check_similarity_mean(mean, f"dataset '{name}': ")
        _check_similarity_mean(self.avg, "avg: ")
        return self


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

    # A hand-edited matrix was read as it stood: a row short of a model was an IndexError or a
    # ValueError traceback in `report`, an interval upside down (`4.00 [9.00, -3.00]`) or a negative n
    # was shown, and a negative linkage distance was scipy's traceback. Each field is checked against
    # `models` and the fields before it, as every RSE mean is (`check_interval`), naming the cell.

    @field_validator("scores", "n")
    @classmethod
    def _one_cell_per_pair(cls, grid: list[list[Any]] | None, info: ValidationInfo) -> Any:
        _check_square(grid, info)
        for (i, j), value in _cells(grid):
            if info.field_name == "n" and value < 0:
                raise impossible(f"cell [{i}][{j}]: n must not be negative, got {value}")
            if info.field_name == "scores":
                check_similarity(value, what=f"cell [{i}][{j}]: ")
        return grid

    @field_validator("aspects")
    @classmethod
    def _aspects_per_pair(cls, aspects: dict[str, list[list[Any]]], info: ValidationInfo) -> Any:
        for name, grid in aspects.items():
            _check_square(grid, info, f"aspect '{name}': ")
            for (i, j), value in _cells(grid):
                check_similarity(value, what=f"aspect '{name}': cell [{i}][{j}]: ")
        return aspects

    @field_validator("ci95")
    @classmethod
    def _intervals_hold_their_cells(cls, ci95: list[list[Any]] | None, info: ValidationInfo) -> Any:
        _check_intervals(ci95, info.data.get("scores"), info)
        return ci95

    @field_validator("aspects_ci95")
    @classmethod
    def _aspect_intervals_hold_their_cells(
        cls, ci95: dict[str, list[list[Any]]] | None, info: ValidationInfo
    ) -> Any:
        for name, grid in (ci95 or {}).items():
            _check_intervals(grid, (info.data.get("aspects") or {}).get(name), info, f"aspect '{name}': ")
        return ci95

    @field_validator("linkage")
    @classmethod
    def _a_linkage_of_the_models(cls, linkage: list[list[float]] | None, info: ValidationInfo) -> Any:
        models = info.data.get("models")
        if linkage is not None and models is not None:
            _check_linkage(linkage, len(models))
        return linkage

    @field_validator("order")
    @classmethod
    def _an_order_of_the_models(cls, order: list[int] | None, info: ValidationInfo) -> Any:
        models = info.data.get("models")
        if order is not None and models is not None and sorted(order) != list(range(len(models))):
            raise impossible(f"expected each model's index (0 to {len(models) - 1}) once, got {order}")
        return order

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


def _cells(grid: list[list[Any]] | None) -> list[tuple[tuple[int, int], Any]]:
    return [
        ((i, j), value)
        for i, row in enumerate(grid or [])
        for j, value in enumerate(row)
        if value is not None
    ]


def _check_square(grid: list[list[Any]] | None, info: ValidationInfo, what: str = "") -> None:
    """One row per model, one cell per model in each row."""
    models = info.data.get("models")
    if grid is None or models is None:
        return
    size = len(models)
    if len(grid) != size:
        raise impossible(f"{what}expected {size} rows, one per model, got {len(grid)}")
    for i, row in enumerate(grid):
        if len(row) != size:
            raise impossible(f"{what}row {i}: expected {size} cells, one per model, got {len(row)}")


def _check_intervals(
    grid: list[list[Any]] | None, points: list[list[Any]] | None, info: ValidationInfo, what: str = ""
) -> None:
    """Each cell's interval: low end not above high end, and the cell's similarity inside it."""
    _check_square(grid, info, what)
    counts = info.data.get("n")
    for (i, j), interval in _cells(grid):
        point = points[i][j] if points is not None and i < len(points) and j < len(points[i]) else None
        n = counts[i][j] if counts is not None and i < len(counts) and j < len(counts[i]) else 0
        check_interval(point, n, interval, f"{what}cell [{i}][{j}]: ")
        check_similarity(*interval, what=f"{what}cell [{i}][{j}]: 95% interval: ")


def _check_linkage(linkage: list[list[float]], size: int) -> None:
    """A scipy linkage of `size` models: `size - 1` merges [a, b, distance, count], each joining two
    clusters formed before it (a model is 0 to size - 1, merge k is size + k), none twice, at a
    distance of at least 0."""
    if len(linkage) != max(size - 1, 0):
        raise impossible(f"expected {max(size - 1, 0)} merges for {size} models, got {len(linkage)}")
    used: set[float] = set()
    for k, row in enumerate(linkage):
        if len(row) != 4 or not all(math.isfinite(x) for x in row):
            raise impossible(f"merge {k}: expected [a, b, distance, count], got {row}")
        a, b, distance, count = row
        for x in (a, b):
            if not (x.is_integer() and 0 <= x < size + k) or x in used or a == b:
                raise impossible(f"merge {k}: {x:g} is not a cluster formed before it and not yet merged")
            used.add(x)
        if distance < 0 or not (count.is_integer() and 2 <= count <= size):
            raise impossible(
                f"merge {k}: expected a distance of at least 0 and a count of 2 to {size}, got {row}"
            )
