"""The distillation verdict in one place: per target, what its own answers *claim* (ICE verdicts of
category other-vendor, with the vendors they name) beside what its *writing* shows (the attribution
decision against independent controls, and how those controls fared). The report, the study report
and `distillscope compare` all show these rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from distillscope.report.load import AttributionRun, IceRun, normalise_model_name, stream_jsonl

OTHER_VENDOR = "other-vendor"


@dataclass
class VerdictRow:
    """One target: ICE's claimed vendors and the attribution decision, each with where it came from."""

    model: str
    claimed: Counter[str] = field(default_factory=Counter)  # vendor -> other-vendor verdicts naming it
    n_other_vendor: int = 0
    n_uncategorised: int = 0  # contradictions of no recorded kind (recorded labels): vendor unknown
    n_judged: int | None = None
    ice_run: str | None = None
    role: str | None = None  # "test" or "control" in the attribution run
    decision: str | None = None  # the decision's wording
    status: str | None = None
    controls: str | None = None  # "n controls; k called distilled (each left out)"
    attribution_run: str | None = None

    @property
    def claims(self) -> str:
        if self.ice_run is None:
            return "—"
        of = f" of {self.n_judged if self.n_judged is not None else '?'} judged"
        if not self.n_other_vendor and self.n_uncategorised:
            return f"not recorded ({self.n_uncategorised} contradictions{of}, their kind unknown)"
        if not self.n_other_vendor:
            return f"none (0 other-vendor{of})"
        if not self.claimed:  # recorded labels, or a judge that does not name the vendor
            return f"another vendor, not named by the judge ({self.n_other_vendor} other-vendor{of})"
        named = ", ".join(f"{v} ×{n}" for v, n in self.claimed.most_common())
        return f"{named} ({self.n_other_vendor} other-vendor{of})"


@dataclass
class _Claims:
    vendors: Counter[str] = field(default_factory=Counter)
    other_vendor: int = 0
    uncategorised: int = 0


def _ice_claims(run: IceRun) -> dict[str, _Claims]:
    """Per target of an ICE run: the vendors its other-vendor verdicts claim and their count, and the
    contradictions whose kind was not recorded (a log's own labels)."""
    targets = [r.target for r in run.results]
    keys = {normalise_model_name(t): t for t in targets}
    out = {t: _Claims() for t in targets}
    path = run.path / "verdicts.jsonl"
    if not path.is_file() or not targets:
        return out
    for verdict in stream_jsonl(path):
        category = verdict.get("category")
        if verdict.get("loose") is not True or category not in (OTHER_VENDOR, None):
            continue
        named = next((verdict[k] for k in ("target", "model") if isinstance(verdict.get(k), str)), None)
        found = out[keys.get(normalise_model_name(named), targets[0]) if named else targets[0]]
        if category is None:
            found.uncategorised += 1
            continue
        found.other_vendor += 1
        claimed = verdict.get("claimed")
        if isinstance(claimed, list):
            found.vendors.update(str(c) for c in claimed if isinstance(c, str))
    return out


def _decision_text(decision: dict[str, Any] | None) -> tuple[str | None, str | None]:
    from distillscope.rse.attribution.controls import wording
    from distillscope.rse.attribution.types import Decision

    if not decision:
        return None, None
    parsed = Decision.model_validate(decision)
    return wording(parsed), parsed.status


def distillation_rows(ice_runs: list[IceRun], attribution_runs: list[AttributionRun]) -> list[VerdictRow]:
    """One row per target that an ICE run or an attribution run (test or control) names."""
    rows: dict[str, VerdictRow] = {}

    def row(name: str) -> VerdictRow:
        return rows.setdefault(normalise_model_name(name), VerdictRow(model=name))

    for run in ice_runs:
        claims = _ice_claims(run)
        for result in run.results:
            found = claims.get(result.target, _Claims())
            entry = row(result.target)
            entry.claimed, entry.n_other_vendor = found.vendors, found.other_vendor
            entry.n_uncategorised = found.uncategorised
            entry.n_judged, entry.ice_run = result.n_judged, str(run.path)
    for arun in attribution_runs:
        controls = arun.raw.get("controls") or {}
        called = [
            c
            for c, m in controls.items()
            if (m.get("decision") or {}).get("status") in ("distilled", "several")
        ]
        summary = (
            f"{len(controls)} controls; {len(called)} called distilled, each with itself left out"
            if controls
            else "none (no 'distilled from' claim)"
        )
        for role, block in (("test", arun.raw.get("models") or {}), ("control", controls)):
            for name, model in block.items():
                entry = row(name)
                entry.role, entry.controls, entry.attribution_run = role, summary, str(arun.path)
                entry.decision, entry.status = _decision_text(model.get("decision"))
    return [r for r in rows.values() if r.ice_run or r.decision]
