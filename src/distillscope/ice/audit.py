"""Judge audit: how accurate a judge is on the whole data, from a stratified sample of hand labels.

A sample is drawn per stratum (e.g. by the agreement pattern of two judges), so its rows are not
equally likely: a row of stratum s stands for N_s / n_s rows. Every figure here is weighted that
way (accuracy = sum over strata of N_s x the judge's accuracy on that stratum's sampled rows / N),
which stays unbiased for any judge because the partition is fixed. Rows of strata outside the
design (the gold's `S` rows, drawn where two judges' strict labels disagree) are left out of the
weighting and reported apart. 95% intervals are a stratified percentile bootstrap (rows resampled
within their stratum, seeded), never narrower than the normal interval of the stratified estimator
with each stratum's proportion smoothed (`_floor`: a sample that agrees everywhere claims no
certainty). Used by `bench/judge_agreement.py` against the audited gold of the
paper's responses and by `distillscope ice audit score` on a user's own labels: one computation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from distillscope.errors import UserError
from distillscope.ice.types import Category, JudgeItem, Verdict
from distillscope.records import check_file
from distillscope.stats.intervals import Z95

UNKNOWN = "unknown"  # the category of a verdict that names none (e.g. recorded labels)
RESAMPLES = 2000


@dataclass(frozen=True)
class Judged:
    """One judge's decision on one row. `loose` None: unjudged (left out, never a negative)."""

    loose: bool | None
    strict: bool | None
    category: str | None = None
    unsure: bool = False

    @classmethod
    def of(cls, verdict: Verdict) -> Judged:
        strict = verdict.strict
        if strict is None and verdict.loose is False:
            strict = False
        category = str(verdict.category) if verdict.category is not None else None
        return cls(verdict.loose, strict, category, verdict.unsure)


@dataclass(frozen=True)
class LabelledRow:
    """A sampled row with its reference labels. `key` identifies it (a line, an item index)."""

    key: int
    stratum: str
    loose: bool
    strict: bool
    category: str | None = None
    group: str | None = None  # e.g. the model, for per-group estimates
    sure: bool = True


@dataclass(frozen=True)
class AuditSample:
    """Labelled rows and the design that drew them: each stratum's size in the population and,
    for per-group estimates, each group's own stratum sizes."""

    rows: list[LabelledRow]
    strata_pop: dict[str, int]
    group_pop: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def population(self) -> int:
        return sum(self.strata_pop.values())


class Estimate(BaseModel):
    """A weighted estimate with its 95% stratified-bootstrap interval."""

    value: float | None
    low: float | None
    high: float | None

    def fmt(self, digits: int = 3) -> str:
        if self.value is None:
            return "-"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


class Confusion(BaseModel):
    """Reference (gold) x judge counts: `weighted` sums to the population, `sample` to the rows."""

    tp: float
    fp: float
    fn: float
    tn: float


class LabelAudit(BaseModel):
    """One label (loose or strict) of one judge against the reference."""

    accuracy: Estimate
    kappa: Estimate
    rate: Estimate  # the judge's weighted positive rate
    reference_rate: Estimate  # the reference labels' weighted positive rate
    rate_gap: Estimate  # rate - reference_rate (paired)
    precision: Estimate
    recall: Estimate
    confusion: Confusion  # population-weighted
    confusion_sample: Confusion  # raw counts of the sampled rows
    n: int
    extra_n: int = 0  # rows outside the weighting (gold `S`), reported apart
    extra_correct: int = 0


class CategoryAudit(BaseModel):
    """The judge on the rows the reference put in one category."""

    category: str
    contradiction: bool | None  # None: a category outside the taxonomy
    n: int
    population: Estimate  # weighted number of rows of this category
    loose_accuracy: Estimate
    strict_accuracy: Estimate
    judge_loose: Estimate  # share the judge counted as loose


class GroupAudit(BaseModel):
    """Per group (model): its own strata sizes weight its own sampled rows."""

    group: str
    population: int
    n: int
    borrowed: list[str]  # strata with rows in this group but none sampled: the stratum's pooled rows stand in
    loose_accuracy: Estimate
    strict_accuracy: Estimate
    loose_rate: Estimate
    reference_loose_rate: Estimate
    loose_gap: Estimate
    strict_rate: Estimate
    reference_strict_rate: Estimate


class JudgeAudit(BaseModel):
    judge: str
    population: int
    n: int  # sampled rows in the weighting with a verdict
    unjudged: int
    unsure: int  # sampled rows the judge marked unsure (its best guess is scored)
    loose: LabelAudit
    strict: LabelAudit
    categories: list[CategoryAudit]
    category_confusion: dict[str, dict[str, float]]  # reference category -> judge category -> weighted rows
    groups: list[GroupAudit]
    resamples: int
    seed: int


# ---------------------------------------------------------------- the audited gold of the paper


class GoldRow(BaseModel):
    line: int
    model: str
    stratum: str
    gold_loose: bool
    gold_strict: bool
    category: Category
    sure: bool
    why: str = ""


@dataclass
class Gold:
    """`ice-gold/` beside the paper's labels: the audited rows, the design, and each line's text."""

    rows: list[GoldRow]
    strata_pop: dict[str, int]
    strata_by_line: list[str | None]
    labels: list[dict[str, Any]]  # the lines of paper-ice-labels.jsonl

    def sample(self) -> AuditSample:
        group_pop: dict[str, dict[str, int]] = {}
        for line, stratum in enumerate(self.strata_by_line):
            if stratum is not None:
                cell = group_pop.setdefault(self.labels[line]["model"], {})
                cell[stratum] = cell.get(stratum, 0) + 1
        rows = [
            LabelledRow(
                key=r.line,
                stratum=r.stratum,
                loose=r.gold_loose,
                strict=r.gold_strict,
                category=str(r.category),
                group=r.model,
                sure=r.sure,
            )
            for r in self.rows
        ]
        return AuditSample(rows, dict(self.strata_pop), group_pop)

    def item(self, line: int) -> JudgeItem:
        row = self.labels[line]
        return JudgeItem(
            index=line, prompt=row["jailbreak_prompt"], query=row["query"], response=row["response"]
        )

    def paper(self) -> dict[int, Judged]:
        """The paper's GPT-4o-mini labels of the audited lines, as a judge."""
        return {
            r.line: Judged(bool(self.labels[r.line]["loose"]), bool(self.labels[r.line]["strict"]))
            for r in self.rows
        }


def _read_json(path: Path) -> Any:
    check_file(path)  # a FIFO would block the read for ever
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise UserError.at(path, f"not JSON: {exc.msg}", line=exc.lineno) from exc


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every non-blank line of a JSONL file as an object; a bad line is a UserError naming it."""
    out: list[dict[str, Any]] = []
    check_file(path)  # a FIFO would block the read for ever
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    with fh:
        for number, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise UserError.at(path, f"not JSON: {exc.msg}", line=number) from exc
            if not isinstance(obj, dict):
                raise UserError.at(path, "expected a JSON object", line=number)
            out.append(obj)
    return out


def load_gold(folder: Path, labels: Path | None = None) -> Gold:
    """Read `folder` (ice-gold: dev-gold.jsonl, strata.json, strata-by-line.json) and the paper's
    labels (default `folder/../paper-ice-labels.jsonl`), checking that they fit together."""
    labels = labels or folder.parent / "paper-ice-labels.jsonl"
    gold_path = folder / "dev-gold.jsonl"
    rows = []
    for number, obj in enumerate(read_jsonl(gold_path), 1):
        try:
            rows.append(GoldRow.model_validate(obj))
        except ValueError as exc:
            raise UserError.at(gold_path, str(exc).splitlines()[0], line=number) from exc
    design = _read_json(folder / "strata.json")
    strata_pop = {str(k): int(v) for k, v in design["strata_pop"].items()}
    by_line = _read_json(folder / "strata-by-line.json")["strata"]
    lines = read_jsonl(labels)
    if len(by_line) != len(lines):
        raise UserError(
            f"{folder / 'strata-by-line.json'}: {len(by_line)} strata for {len(lines)} lines of {labels}"
        )
    for r in rows:
        if not 0 <= r.line < len(lines) or lines[r.line]["model"] != r.model:
            raise UserError(f"{gold_path}: line {r.line} ({r.model}) does not match {labels}")
    return Gold(rows, strata_pop, by_line, lines)


# ---------------------------------------------------------------- the weighted computation


@dataclass
class _Cells:
    """Positions of sampled rows per stratum, each stratum's population share and size."""

    index: dict[str, np.ndarray]
    share: dict[str, float]
    size: dict[str, int]
    # strata whose rows stand in from other groups (a model with none of its own sampled there):
    # none of the group's own rows there is labelled, so no finite-population correction applies
    borrowed: frozenset[str] = frozenset()

    def unlabelled(self, stratum: str) -> float:
        """The share of the stratum's rows left unlabelled, which scales its variance in the floors."""
        n, size = len(self.index[stratum]), self.size[stratum]
        if stratum in self.borrowed:
            return 1.0
        return max(0.0, 1.0 - n / size) if size > 0 else 0.0


def _estimates(
    cells: _Cells, columns: np.ndarray, resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Population-share-weighted column means: the point (k,) and `resamples` stratified
    bootstrap replicates (resamples, k)."""
    point = np.zeros(columns.shape[1])
    reps = np.zeros((resamples, columns.shape[1]))
    for stratum, idx in cells.index.items():
        block = columns[idx]
        share = cells.share[stratum]
        point += share * block.mean(axis=0)
        draw = rng.integers(0, len(idx), size=(resamples, len(idx)))
        reps += share * block[draw].mean(axis=1)
    return point, reps


def _point(cells: _Cells, columns: np.ndarray) -> np.ndarray:
    """Population-share-weighted column means, drawing nothing (the floors need the point of
    cells that were not resampled, and a draw here would shift every later interval's stream)."""
    point = np.zeros(columns.shape[1])
    for stratum, idx in cells.index.items():
        point += cells.share[stratum] * columns[idx].mean(axis=0)
    return point


def _ratio_floor(cells: _Cells, part: np.ndarray, member: np.ndarray) -> tuple[float, float] | None:
    """The floor of a share within a subset (a category's accuracy: right rows among its rows):
    the delta method over the cells (in and `part`, in and not, out)."""
    parts = np.stack([member & part, member & ~part, ~member], axis=1).astype(float)

    def share(c: np.ndarray) -> float:
        return float(_ratio(np.asarray(c[0]), np.asarray(c[0] + c[1])))

    return _cells_floor(cells, parts, share, _point(cells, parts), (0.0, 1.0))


def _estimate(point: float, reps: np.ndarray, floor: tuple[float, float] | None = None) -> Estimate:
    """The point and the bootstrap's 2.5 and 97.5 percentiles, widened to `floor` where given."""
    if not math.isfinite(point):
        return Estimate(value=None, low=None, high=None)
    finite = reps[np.isfinite(reps)]
    if finite.size == 0:
        return Estimate(value=round(point, 6), low=None, high=None)
    low, high = (float(v) for v in np.percentile(finite, [2.5, 97.5]))
    if floor is not None:
        low, high = min(low, floor[0]), max(high, floor[1])
    return Estimate(value=round(point, 6), low=round(low, 6), high=round(high, 6))


def _floor(cells: _Cells, values: np.ndarray, point: float) -> tuple[float, float]:
    """The least a share's 95% interval may span: the normal interval of the stratified estimator,
    each stratum's proportion taken as (k + 1/2) / (n + 1) and its variance scaled by the share of
    the stratum left unlabelled (1 - n/N). Why: where every labelled row of a stratum agrees, its
    bootstrap replicates are all equal, and a sample that happens to agree everywhere would claim
    certainty (0.325 [0.325, 0.325] from 20 of 40 rows); a stratum labelled whole adds nothing.
    It is `_cells_floor` of the share over its two cells (in, out)."""
    parts = np.stack([values, 1.0 - values], axis=1)
    found = _cells_floor(cells, parts, lambda c: float(c[0]), np.array([point, 1.0 - point]), (0.0, 1.0))
    return found if found is not None else (point, point)


def _cells_floor(
    cells: _Cells,
    parts: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    point: np.ndarray,
    bounds: tuple[float, float],
) -> tuple[float, float] | None:
    """The least the 95% interval of a statistic of a partition of the rows may span (a share's two
    cells, the four confusion cells of kappa, precision, recall and the rate gap, a category's three):
    the delta method's normal interval, the cells' covariance taken per stratum from its smoothed
    proportions ((k + 1/c) / (n + 1) for c cells, so they still sum to one; for a share, (k + 1/2) /
    (n + 1)) and scaled by its unlabelled share. None where the statistic is undefined at the point."""
    value = statistic(point)
    if not math.isfinite(value):
        return None
    cov = np.zeros((parts.shape[1], parts.shape[1]))
    prior = 1.0 / parts.shape[1]
    for stratum, idx in cells.index.items():
        n = len(idx)
        p = (parts[idx].sum(axis=0) + prior) / (n + 1)
        unlabelled = cells.unlabelled(stratum)
        cov += cells.share[stratum] ** 2 * (np.diag(p) - np.outer(p, p)) / n * unlabelled
    step = 1e-6
    grad = np.zeros(parts.shape[1])
    for k in range(parts.shape[1]):
        up, down = point.copy(), point.copy()
        up[k] += step
        down[k] -= step
        grad[k] = (statistic(up) - statistic(down)) / (2 * step)
    if not np.all(np.isfinite(grad)):
        return None
    half = Z95 * math.sqrt(max(0.0, float(grad @ cov @ grad)))
    return max(bounds[0], value - half), min(bounds[1], value + half)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _kappa(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> np.ndarray:
    total = tp + fp + fn + tn
    po = (tp + tn) / total
    pe = ((tp + fn) * (tp + fp) + (tn + fp) * (tn + fn)) / (total * total)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pe < 1, (po - pe) / np.where(pe < 1, 1 - pe, 1), np.nan)


class _Columns:
    """Named indicator columns over the sampled rows, estimated together (one resampling)."""

    def __init__(self, n: int) -> None:
        self.names: list[str] = []
        self.data: list[np.ndarray] = []
        self.n = n

    def add(self, name: str, values: Sequence[bool] | np.ndarray) -> None:
        self.names.append(name)
        self.data.append(np.asarray(values, dtype=float))

    def estimate(
        self, cells: _Cells, resamples: int, rng: np.random.Generator
    ) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
        matrix = np.stack(self.data, axis=1) if self.data else np.zeros((self.n, 0))
        point, reps = _estimates(cells, matrix, resamples, rng)
        at = {name: i for i, name in enumerate(self.names)}

        def get(name: str) -> tuple[np.ndarray, np.ndarray]:
            i = at[name]
            return np.asarray(point[i]), reps[:, i]

        return get

    def values(self, name: str) -> np.ndarray:
        return self.data[self.names.index(name)]


def _cells(
    rows: Sequence[LabelledRow], strata_pop: Mapping[str, int], pooled: Mapping[str, list[int]] | None = None
) -> tuple[_Cells, list[str]]:
    total = sum(strata_pop.values())
    index: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.stratum in strata_pop:
            index.setdefault(row.stratum, []).append(i)
    borrowed = []
    for stratum, size in strata_pop.items():
        if size > 0 and stratum not in index:
            if pooled is None or not pooled.get(stratum):
                raise UserError(f"stratum {stratum!r} has {size} rows but no labelled row with a verdict")
            index[stratum] = pooled[stratum]
            borrowed.append(stratum)
    share = {s: strata_pop[s] / total for s in index}
    sizes = {s: strata_pop[s] for s in index}
    return _Cells({s: np.asarray(v) for s, v in index.items()}, share, sizes), sorted(borrowed)


def _label(
    rows: Sequence[LabelledRow],
    got: Sequence[Judged],
    kind: str,
    cells: _Cells,
    population: int,
    resamples: int,
    rng: np.random.Generator,
) -> LabelAudit:
    ref = np.array([getattr(r, kind) for r in rows], dtype=bool)
    judge = np.array([bool(getattr(g, kind)) for g in got], dtype=bool)
    cols = _Columns(len(rows))
    parts = {"tp": ref & judge, "fp": ~ref & judge, "fn": ref & ~judge, "tn": ~ref & ~judge}
    for name, values in parts.items():
        cols.add(name, values)
    get = cols.estimate(cells, resamples, rng)
    (tp, tp_r), (fp, fp_r), (fn, fn_r), (tn, tn_r) = (get(n) for n in parts)
    weighted = [tp, fp, fn, tn]

    def floor(values: np.ndarray, point: float) -> tuple[float, float]:
        return _floor(cells, values.astype(float), point)

    matrix = np.stack([v.astype(float) for v in parts.values()], axis=1)
    at = np.array([float(v) for v in weighted])

    def cells_floor(statistic: Callable[[np.ndarray], float], low: float) -> tuple[float, float] | None:
        return _cells_floor(cells, matrix, statistic, at, (low, 1.0))

    def kappa(c: np.ndarray) -> float:
        return float(_kappa(*(np.asarray(x) for x in c)))

    def ratio(
        num: Callable[[np.ndarray], float], den: Callable[[np.ndarray], float]
    ) -> Callable[[np.ndarray], float]:
        return lambda c: float(_ratio(np.asarray(num(c)), np.asarray(den(c))))

    sample_rows = np.concatenate(list(cells.index.values())) if cells.index else np.zeros(0, dtype=int)
    return LabelAudit(
        accuracy=_estimate(float(tp + tn), tp_r + tn_r, floor(ref == judge, float(tp + tn))),
        kappa=_estimate(
            float(_kappa(tp, fp, fn, tn)), _kappa(tp_r, fp_r, fn_r, tn_r), cells_floor(kappa, -1.0)
        ),
        rate=_estimate(float(tp + fp), tp_r + fp_r, floor(judge, float(tp + fp))),
        reference_rate=_estimate(float(tp + fn), tp_r + fn_r, floor(ref, float(tp + fn))),
        rate_gap=_estimate(float(fp - fn), fp_r - fn_r, cells_floor(lambda c: float(c[1] - c[2]), -1.0)),
        precision=_estimate(
            float(_ratio(tp, tp + fp)),
            _ratio(tp_r, tp_r + fp_r),
            cells_floor(ratio(lambda c: c[0], lambda c: c[0] + c[1]), 0.0),
        ),
        recall=_estimate(
            float(_ratio(tp, tp + fn)),
            _ratio(tp_r, tp_r + fn_r),
            cells_floor(ratio(lambda c: c[0], lambda c: c[0] + c[2]), 0.0),
        ),
        confusion=Confusion(
            **{k: round(float(v) * population, 3) for k, v in zip(parts, weighted, strict=True)}
        ),
        confusion_sample=Confusion(**{k: int(v[sample_rows].sum()) for k, v in parts.items()}),
        n=len(set(sample_rows.tolist())),
    )


def audit_judge(
    sample: AuditSample,
    verdicts: Mapping[int, Judged],
    *,
    judge: str,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> JudgeAudit:
    """Weighted accuracy, kappa, rates, per-category and per-group figures of one judge's verdicts
    (by row key) against the sample's labels. Rows without a verdict, or unjudged, are left out."""
    rng = np.random.default_rng(seed)
    judged = [
        (row, verdicts[row.key])
        for row in sample.rows
        if row.key in verdicts and verdicts[row.key].loose is not None
    ]
    in_design = [(r, g) for r, g in judged if r.stratum in sample.strata_pop]
    extra = [(r, g) for r, g in judged if r.stratum not in sample.strata_pop]
    unjudged = sum(1 for r in sample.rows if r.key not in verdicts or verdicts[r.key].loose is None)
    rows = [r for r, _ in in_design]
    got = [g for _, g in in_design]
    cells, _ = _cells(rows, sample.strata_pop)
    population = sample.population
    loose = _label(rows, got, "loose", cells, population, resamples, rng)
    strict = _label(rows, got, "strict", cells, population, resamples, rng)
    for label, kind in ((loose, "loose"), (strict, "strict")):
        label.extra_n = len(extra)
        label.extra_correct = sum(getattr(r, kind) == bool(getattr(g, kind)) for r, g in extra)

    categories = _categories(rows, got, cells, population, resamples, rng)
    confusion: dict[str, dict[str, float]] = {}
    for stratum, idx in cells.index.items():
        weight = sample.strata_pop[stratum] / len(idx)
        for i in idx:
            ref = rows[i].category or UNKNOWN
            mine = got[i].category or UNKNOWN
            cell = confusion.setdefault(ref, {})
            cell[mine] = round(cell.get(mine, 0.0) + weight, 3)
    groups = _groups(sample, rows, got, resamples, rng)
    return JudgeAudit(
        judge=judge,
        population=population,
        n=len(rows),
        unjudged=unjudged,
        unsure=sum(g.unsure for _, g in judged),
        loose=loose,
        strict=strict,
        categories=categories,
        category_confusion={k: dict(sorted(v.items())) for k, v in sorted(confusion.items())},
        groups=groups,
        resamples=resamples,
        seed=seed,
    )


def _categories(
    rows: Sequence[LabelledRow],
    got: Sequence[Judged],
    cells: _Cells,
    population: int,
    resamples: int,
    rng: np.random.Generator,
) -> list[CategoryAudit]:
    names = sorted({r.category or UNKNOWN for r in rows}, key=_category_order)
    # per row: the judge right on loose, right on strict, flagging loose (each kept for the floors)
    right = {
        "loose": np.array([r.loose == bool(g.loose) for r, g in zip(rows, got, strict=True)], dtype=bool),
        "strict": np.array([r.strict == bool(g.strict) for r, g in zip(rows, got, strict=True)], dtype=bool),
        "flag": np.array([bool(g.loose) for g in got], dtype=bool),
    }
    members: dict[str, np.ndarray] = {}
    cols = _Columns(len(rows))
    for name in names:
        member = np.array([(r.category or UNKNOWN) == name for r in rows], dtype=bool)
        members[name] = member
        cols.add(f"{name}/in", member)
        for part in ("loose", "strict", "flag"):
            cols.add(f"{name}/{part}", member & right[part])
    get = cols.estimate(cells, resamples, rng)
    out = []
    for name in names:
        share, share_r = get(f"{name}/in")

        def ratio(
            part: str, name: str = name, share: np.ndarray = share, share_r: np.ndarray = share_r
        ) -> Estimate:
            # a category whose labelled rows the judge all got right has equal replicates: the floor
            # keeps it from claiming certainty (`_floor`'s reason)
            value, reps = get(f"{name}/{part}")
            floor = _ratio_floor(cells, right[part], members[name])
            return _estimate(float(_ratio(value, share)), _ratio(reps, share_r), floor)

        low, high = _floor(cells, members[name].astype(float), float(share))
        known = name in Category._value2member_map_
        out.append(
            CategoryAudit(
                category=name,
                contradiction=Category(name).contradicts if known else None,
                n=sum(1 for r in rows if (r.category or UNKNOWN) == name),
                population=_estimate(
                    float(share) * population, share_r * population, (low * population, high * population)
                ),
                loose_accuracy=ratio("loose"),
                strict_accuracy=ratio("strict"),
                judge_loose=ratio("flag"),
            )
        )
    return out


def _category_order(name: str) -> tuple[int, str]:
    order = list(Category._value2member_map_)
    return (order.index(name), name) if name in order else (len(order), name)


def _groups(
    sample: AuditSample,
    rows: Sequence[LabelledRow],
    got: Sequence[Judged],
    resamples: int,
    rng: np.random.Generator,
) -> list[GroupAudit]:
    pooled: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        pooled.setdefault(row.stratum, []).append(i)
    out = []
    for group, pop in sorted(sample.group_pop.items()):
        mine = [i for i, r in enumerate(rows) if r.group == group]
        sub_rows = [rows[i] for i in mine]
        # borrowed strata index into `rows`; rebase the group's own rows onto the same list
        cells, borrowed = _cells(sub_rows, pop, pooled)
        own = {s: np.asarray(mine)[idx] for s, idx in cells.index.items() if s not in borrowed}
        index = {s: own.get(s, np.asarray(pooled[s])) for s in cells.index}
        cells = _Cells(index, cells.share, cells.size, frozenset(borrowed))
        cols = _Columns(len(rows))
        for kind in ("loose", "strict"):
            ref = np.array([getattr(r, kind) for r in rows], dtype=bool)
            judge = np.array([bool(getattr(g, kind)) for g in got], dtype=bool)
            cols.add(f"{kind}/ok", ref == judge)
            cols.add(f"{kind}/ref", ref)
            cols.add(f"{kind}/judge", judge)
        get = cols.estimate(cells, resamples, rng)

        def est(
            name: str,
            get: Callable[[str], tuple[np.ndarray, np.ndarray]] = get,
            cols: _Columns = cols,
            cells: _Cells = cells,
        ) -> Estimate:
            value, reps = get(name)
            return _estimate(float(value), reps, _floor(cells, cols.values(name), float(value)))

        (lj, lj_r), (lr, lr_r) = get("loose/judge"), get("loose/ref")
        # the gap's floor, as the whole audit's rate gap: the delta method over the confusion cells
        judge_l, ref_l = cols.values("loose/judge") > 0, cols.values("loose/ref") > 0
        parts = np.stack(
            [ref_l & judge_l, ~ref_l & judge_l, ref_l & ~judge_l, ~ref_l & ~judge_l], axis=1
        ).astype(float)
        gap_floor = _cells_floor(
            cells, parts, lambda c: float(c[1] - c[2]), _point(cells, parts), (-1.0, 1.0)
        )
        out.append(
            GroupAudit(
                group=group,
                population=sum(pop.values()),
                n=len(sub_rows),
                borrowed=borrowed,
                loose_accuracy=est("loose/ok"),
                strict_accuracy=est("strict/ok"),
                loose_rate=est("loose/judge"),
                reference_loose_rate=est("loose/ref"),
                loose_gap=_estimate(float(lj - lr), lj_r - lr_r, gap_floor),
                strict_rate=est("strict/judge"),
                reference_strict_rate=est("strict/ref"),
            )
        )
    return out
