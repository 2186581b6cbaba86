"""`rse attribute`: family members and test models answer the prompts (through the ledger), a
classifier learns to tell the families' answers apart, and each test model is attributed.

Files in the run directory (results.json last and atomically):

    responses.jsonl      every answer of every model (role "family" or "test"; missing ones with the reason)
    probabilities.jsonl  every scored answer: its prompt group, cross-fitting folds (one per repeat), family probabilities
    features.json        the most telling features per family (evidence; from a fit on all family answers)

Beside the ledger, `ledger.features.sqlite` keeps each answer's extracted features (featurecache.py).
    results.json         AttributionResult: per test model and family the score, ci95, p_value; predicted
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from distillscope.engine.run import RunContext, write_json, write_jsonl
from distillscope.errors import BudgetExhausted, UserError
from distillscope.results.base import RunSummary
from distillscope.rse.attribution import featurecache
from distillscope.rse.attribution.analysis import (
    METHOD,
    attribute,
    member_warnings,
    probability_rows,
    separability_warnings,
)
from distillscope.rse.attribution.crossfit import Doc, telling_features
from distillscope.rse.attribution.features import DEFAULT_FEATURES, FeatureSet
from distillscope.rse.attribution.featurestore import FeatureStore
from distillscope.rse.attribution.featurestore import store_path as feature_store_path
from distillscope.rse.attribution.types import AttributionResult, TellingFeature
from distillscope.rse.banks.types import BankSummary
from distillscope.rse.datasets import Dataset
from distillscope.rse.responses import ModelAnswers
from distillscope.rse.runner import Contestant, answer_all, check_names, require_some_answers

log = logging.getLogger("distillscope")


def docs_of(answers: ModelAnswers, family: str | None = None) -> list[Doc]:
    """The answers a model gave, one `Doc` each; a prompt's turns share one group."""
    return [
        Doc(
            model=answers.name,
            group=f"{a.item.dataset}/{a.item.prompt.id}",
            key=f"{a.item.dataset}/{a.item.key}",
            text=a.text,
            family=family,
        )
        for a in answers.answers.values()
        if a.text is not None
    ]


def check_roles(
    families: Mapping[str, Sequence[Contestant]],
    tests: Sequence[Contestant],
    controls: Sequence[Contestant] = (),
) -> None:
    if len(families) < 2:
        raise UserError(
            f"rse attribute needs at least two families (--family NAME=SPEC), got {len(families)}"
        )
    if not tests:
        raise UserError("rse attribute needs at least one --test model")
    members = [c for group in families.values() for c in group]
    check_names(members, "family models")
    check_names([*members, *tests], "family and test models")
    if controls:
        check_names([*members, *tests, *controls], "family, test and control models")


async def run_attribution(
    ctx: RunContext,
    *,
    families: Mapping[str, Sequence[Contestant]],
    tests: Sequence[Contestant],
    datasets: Sequence[Dataset],
    alpha: float = 0.05,
    seed: int = 0,
    features: FeatureSet = DEFAULT_FEATURES,
    settings: dict[str, Any] | None = None,
    controls: Sequence[Contestant] = (),
    bank: BankSummary | None = None,
    notes: Sequence[str] = (),
) -> AttributionResult:
    """The whole run; returns what it wrote to results.json. `controls` answer like the test models
    and are attributed like them (results.json `controls`); `bank` and `notes` (warnings of the bank
    resolution) are recorded as they are."""
    check_roles(families, tests, controls)
    names = list(families)
    members = [(family, c) for family, group in families.items() for c in group]
    result = AttributionResult(
        families=names,
        members={f: [c.name for c in group] for f, group in families.items()},
        alpha=alpha,
        datasets={d.name: d.summary() for d in datasets},
        method={**METHOD, "features": features},
        settings=settings or {},
        bank=bank,
    )
    try:
        everyone = await answer_all(ctx, [*(c for _, c in members), *tests, *controls], datasets)
        for answers in everyone:
            require_some_answers(answers)
        member_answers = everyone[: len(members)]
        test_answers = everyone[len(members) : len(members) + len(tests)]
        control_answers = everyone[len(members) + len(tests) :]
        rows = [
            a.row(m.name, "family") | {"family": family}
            for (family, _), m in zip(members, member_answers, strict=True)
            for a in m.answers.values()
        ]
        rows += [a.row(m.name, "test") for m in test_answers for a in m.answers.values()]
        rows += [a.row(m.name, "control") for m in control_answers for a in m.answers.values()]
        write_jsonl(ctx.out / "responses.jsonl", rows)
        result.missing = {m.name: m.missing() for m in everyone}
        family_docs = [
            d for (family, _), m in zip(members, member_answers, strict=True) for d in docs_of(m, family)
        ]
        test_docs = {m.name: docs_of(m) for m in [*test_answers, *control_answers]}
        log.info("attribution: cross-fitting on %d family answers", len(family_docs))
        store = FeatureStore(feature_store_path(ctx.ledger.path))
        try:
            with featurecache.using(featurecache.FeatureCache(store)):
                found = attribute(family_docs, test_docs, alpha=alpha, seed=seed, features=features)
                evidence = telling_features(family_docs, seed=seed, features=features)
        finally:
            store.close()
        for m in [*test_answers, *control_answers]:
            found.models[m.name].n_missing = m.missing()["count"]
        result.models = {m.name: found.models[m.name] for m in test_answers}
        result.controls = {m.name: found.models[m.name] for m in control_answers}
        result.held_out = found.held_out
        result.held_out_members = found.held_out_members
        result.warnings = [
            *notes,
            *separability_warnings(found.held_out),
            *member_warnings(found.held_out_members, family_docs, alpha),
        ]
        for warning in result.warnings:
            log.warning("rse attribute: %s", warning)
        write_jsonl(ctx.out / "probabilities.jsonl", probability_rows(found.fit))
        write_json(ctx.out / "features.json", evidence)
        result.evidence = {f: [TellingFeature(**x) for x in items[:10]] for f, items in evidence.items()}
        result.complete = True
    except BudgetExhausted as exc:
        result.stop_reason = str(exc)
        log.warning("rse attribute stopped: %s", exc)
    result.run = RunSummary.model_validate(ctx.run_summary())
    result.write(ctx.out)
    return result
