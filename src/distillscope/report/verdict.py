"""The distillation verdict in one place: per target, what its own answers *claim* (ICE verdicts of
category other-vendor, with the vendors they name) beside what its *writing* shows (the attribution
decision against independent controls, and how those controls fared). The report, the study report
and `distillscope compare` all show these rows."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from distillscope.report.load import AttributionRun, IceRun, normalise_model_name, stream_jsonl

if TYPE_CHECKING:
    from distillscope.rse.attribution.types import Decision

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
    unreadable: str | None = None  # why the ICE run's verdicts.jsonl was not read (load.verdicts_problem)
    name_ice_run: bool = False  # the model has several ICE runs: each row's claims name theirs

    @property
    def claims(self) -> str:
        text = self._claims()
        return f"{text}; ICE run {self.ice_run}" if self.name_ice_run and self.ice_run is not None else text

    def _claims(self) -> str:
        if self.ice_run is None:
            return "—"
        if self.unreadable is not None:
            return f"unknown ({self.unreadable})"
        of = f" of {self.n_judged if self.n_judged is not None else '?'} judged"
        if not self.n_other_vendor and self.n_uncategorised:
            return f"not recorded ({self.n_uncategorised} contradictions{of}, their kind unknown)"
        if not self.n_other_vendor:
            return f"none (0 other-vendor{of})"
        if not self.claimed:  # a judge that does not name the vendor it found
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
    if run.verdicts_problem is not None or not targets:
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


def _decision(decision: dict[str, Any] | None) -> Decision | None:
    from distillscope.rse.attribution.types import Decision

    return Decision.model_validate(decision) if decision else None


def _controls_summary(controls: dict[str, Any]) -> str:
    """The run's false-positive check, counted as the terminal counts it (controls.FalsePositiveCheck)."""
    from distillscope.rse.attribution.controls import FalsePositiveCheck

    if not controls:
        return "none (no 'distilled from' claim)"
    decisions = {c: _decision(m.get("decision")) for c, m in controls.items()}
    return FalsePositiveCheck.of(decisions).summary()


def distillation_rows(ice_runs: list[IceRun], attribution_runs: list[AttributionRun]) -> list[VerdictRow]:
    """One row per target that an ICE run or an attribution run (test or control) names; a model
    that several attribution runs judge gets one row per run (each names its run), and one judged by
    several ICE runs a row per ICE run (its claims name the run), so no run's finding hides another's
    (the last ICE run given replaced the others: the argument order chose the claims shown)."""
    from distillscope.rse.attribution.controls import wording

    ice: dict[str, list[VerdictRow]] = {}
    judged: dict[str, list[VerdictRow]] = {}
    order: list[str] = []

    def seen(name: str) -> str:
        key = normalise_model_name(name)
        if key not in ice and key not in judged:
            order.append(key)
        return key

    for run in ice_runs:
        claims = _ice_claims(run)
        for result in run.results:
            found = claims.get(result.target, _Claims())
            entry = VerdictRow(
                model=result.target, claimed=found.vendors, n_other_vendor=found.other_vendor,
                n_uncategorised=found.uncategorised, n_judged=result.n_judged, ice_run=str(run.path),
                unreadable=run.verdicts_problem,
            )  # fmt: skip
            ice.setdefault(seen(result.target), []).append(entry)
    for arun in attribution_runs:
        controls = arun.raw.get("controls") or {}
        summary = _controls_summary(controls)
        for role, block in (("test", arun.raw.get("models") or {}), ("control", controls)):
            for name, model in block.items():
                decision = _decision(model.get("decision"))
                if decision is None:
                    continue
                judged.setdefault(seen(name), []).append(
                    VerdictRow(
                        model=name, role=role, controls=summary, attribution_run=str(arun.path),
                        decision=wording(decision), status=decision.status,
                    )
                )  # fmt: skip
    rows: list[VerdictRow] = []
    for key in order:
        owns = ice.get(key) or []
        several = len(owns) > 1  # two ICE runs of one model: a row for each (only the last was shown)
        for own in owns:
            own.name_ice_run = several
        for entry in judged.get(key) or []:
            if not owns:
                rows.append(entry)
            for own in owns:
                rows.append(
                    dataclasses.replace(
                        own, role=entry.role, decision=entry.decision, status=entry.status,
                        controls=entry.controls, attribution_run=entry.attribution_run,
                    )
                )  # fmt: skip
        if key not in judged:
            rows.extend(owns)
    return rows


def shows_runs(rows: list[VerdictRow]) -> bool:
    """Whether the verdict table needs an attribution-run column: some model is judged by two runs."""
    runs: dict[str, set[str]] = {}
    for r in rows:
        if r.attribution_run is not None:
            runs.setdefault(normalise_model_name(r.model), set()).add(r.attribution_run)
    return any(len(found) > 1 for found in runs.values())
