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
        if not self.claimed:
            return f"none (0 other-vendor of {self.n_judged if self.n_judged is not None else '?'} judged)"
        named = ", ".join(f"{v} ×{n}" for v, n in self.claimed.most_common())
        of = f" of {self.n_judged} judged" if self.n_judged is not None else ""
        return f"{named} ({self.n_other_vendor} other-vendor{of})"


def _ice_claims(run: IceRun) -> dict[str, tuple[Counter[str], int]]:
    """Per target of an ICE run: the vendors its other-vendor verdicts claim, and their count."""
    targets = [r.target for r in run.results]
    keys = {normalise_model_name(t): t for t in targets}
    out: dict[str, tuple[Counter[str], int]] = {t: (Counter(), 0) for t in targets}
    path = run.path / "verdicts.jsonl"
    if not path.is_file() or not targets:
        return out
    for verdict in stream_jsonl(path):
        if verdict.get("category") != OTHER_VENDOR or verdict.get("loose") is not True:
            continue
        named = next((verdict[k] for k in ("target", "model") if isinstance(verdict.get(k), str)), None)
        target = keys.get(normalise_model_name(named), targets[0]) if named else targets[0]
        counts, n = out[target]
        claimed = verdict.get("claimed")
        counts.update(str(c) for c in claimed if isinstance(c, str)) if isinstance(claimed, list) else None
        out[target] = (counts, n + 1)
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
            counts, n = claims.get(result.target, (Counter(), 0))
            entry = row(result.target)
            entry.claimed, entry.n_other_vendor = counts, n
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
