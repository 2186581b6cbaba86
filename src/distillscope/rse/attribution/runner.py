"""`rse attribute`: family members and test models answer the prompts (through the ledger), a
classifier learns to tell the families' answers apart, and each test model is attributed.

Files in the run directory (results.json last and atomically):

    responses.jsonl      every answer of every model (role "family", "control" or "test"; missing ones with the reason)
    probabilities.jsonl  every scored answer: its prompt group, cross-fitting folds (one per repeat), family probabilities
    features.json        the most telling features per family (evidence; from a fit on all family answers)
    results.json         AttributionResult: per test model and family the score, ci95, p_value; predicted;
                         with --control, each model's decision and each control's (itself left out)

Beside the ledger, `ledger.features.sqlite` keeps each answer's extracted features (featurecache.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from distillscope.engine.run import RunContext, write_json, write_jsonl
from distillscope.errors import BudgetExhausted, UserError
from distillscope.naming import Naming, flag
from distillscope.results.base import RunSummary
from distillscope.rse.attribution import featurecache
from distillscope.rse.attribution.analysis import (
    METHOD,
    attribute,
    control_warnings,
    member_warnings,
    probability_rows,
    separability_warnings,
    unchecked_member_warnings,
)
from distillscope.rse.attribution.controls import MIN_CONTROLS
from distillscope.rse.attribution.crossfit import Doc, telling_features
from distillscope.rse.attribution.features import DEFAULT_FEATURES, FeatureSet
from distillscope.rse.attribution.featurestore import FeatureStore
from distillscope.rse.attribution.featurestore import store_path as feature_store_path
from distillscope.rse.attribution.types import AttributionResult, TellingFeature
from distillscope.rse.banks.types import BankSummary
from distillscope.rse.datasets import Dataset
from distillscope.rse.responses import ModelAnswers
from distillscope.rse.runner import Contestant, answer_all, answers_key, check_names, require_some_answers

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
    name: Naming = flag,
) -> None:
    """Bad roles are refused before any answer is asked for: each a one-line error naming the model
    (and the setting that brought it in, as `name` does)."""
    if len(families) < 2:
        raise UserError(
            f"rse attribute needs at least two families ({name('families', 'NAME=SPEC')}), got {len(families)}"
        )
    if not tests:
        raise UserError(f"rse attribute needs at least one {name('tests')} model")
    members = [c for group in families.values() for c in group]
    check_names(members, "family models", name)
    check_names([*members, *tests], "family and test models", name)
    check_controls(members, tests, controls, name)


def check_controls(
    members: Sequence[Contestant],
    tests: Sequence[Contestant],
    controls: Sequence[Contestant],
    name: Naming = flag,
) -> None:
    """A control must be independent of everything else in the run, and there must be enough of
    them for any test over models."""
    if not controls:
        return
    member_names = {c.name for c in members}
    test_names = {c.name for c in tests}
    seen: set[str] = set()
    for c in controls:
        control = name("controls", c.name)
        if c.name in member_names:
            raise UserError(
                f"{control}: it is also a family member; a control must be independent of every family"
            )
        if c.name in test_names:
            raise UserError(f"{control}: it is also a {name('tests')} model; give it in one role only")
        if c.name in seen:
            raise UserError(f"{control}: given twice")
        seen.add(c.name)
    if len(controls) < MIN_CONTROLS:
        raise UserError(
            f"{name('controls', controls[0].name)}: a single control is too few for any test over models "
            f"(its spread cannot be estimated from one model); give at least {MIN_CONTROLS}, "
            "or none for family resemblance only"
        )


def check_control_answers(
    controls: Sequence[Contestant],
    datasets: Sequence[Dataset],
    families: Mapping[str, Sequence[Contestant]] | None = None,
    tests: Sequence[Contestant] = (),
    name: Naming = flag,
) -> None:
    """A recorded control with no answer to any selected prompt is refused before the run starts
    (a live one is refused when its answers are in: `require_some_answers`). A test model that gives
    a family member's very answers (a copy of its file, or the file by a symbolic link or another
    path: roles are checked by name) is refused: its answers trained the family it would be
    attributed to, more surely than the member itself when left out. So is a control that
    gives the very answers of a family member or a test model (a renamed copy of its file: the
    roles are checked by name, so the copy would pass as an independent model), or of another
    control. So is a family member that gives another member's very answers (the same file by another
    path or a renamed copy, in its own family or another): one writer counted twice makes its family
    look more alike than it is (a member left out is still in training as its twin, so the held-out
    check passes for nothing), or two families share a writer. Same answers: `rse run`'s check of a
    test against the reference, a replay file judged by its answers to the selected prompts."""
    from distillscope.models.replay import ReplayBackend
    from distillscope.rse.responses import planned_requests

    prompts = [p for d in datasets for p in d.prompts]
    for c in controls:
        if not isinstance(c.backend, ReplayBackend):
            continue
        planned = planned_requests(prompts, c.params)
        if planned and all(c.backend.index.lookup(request) is None for _, request in planned):
            raise UserError(
                f"{name('controls', c.name)}: {c.backend.path} has no answer to any of the {len(planned)} "
                "selected prompts; a control must answer the same prompts as the test models"
            )
    keys: dict[tuple[str, str], tuple[str, str]] = {}  # answers key -> (role, name) of its first holder
    family_of: dict[str, str] = {}  # each family member's family
    member_role, test_role, control_role = "family member", f"{name('tests')} model", name("controls")
    for role, other, family in [
        *((member_role, m, f) for f, group in (families or {}).items() for m in group),
        *((test_role, t, "") for t in tests),
        *((control_role, c, "") for c in controls),
    ]:
        key = answers_key(other, prompts)
        if role == member_role:
            family_of[other.name] = family
            if key in keys:
                first = keys[key][1]
                raise UserError(
                    f"family member '{other.name}' (family {family}): it gives the same answers to the "
                    f"{len(prompts)} selected prompts as family member '{first}' (family {family_of[first]}): a "
                    "copy of its answers, or the same file by another path, would count one writer twice; "
                    "give each model's answers once"
                )
        if role == test_role and keys.get(key, ("",))[0] == member_role:
            raise UserError(
                f"{name('tests', other.name)}: it gives the same answers as family member '{keys[key][1]}' to "
                f"the {len(prompts)} selected prompts (a copy of its answers, or the same file by another path): "
                "it would be attributed to the family that its own answers define; give it in one role only"
            )
        if role == control_role and key in keys:
            first_role, first = keys[key]
            raise UserError(
                f"{name('controls', other.name)}: it gives the same answers as {first_role} '{first}' to the "
                f"{len(prompts)} selected prompts (a copy of its answers); a control must be an "
                "independent model"
            )
        keys.setdefault(key, (role, other.name))


def coverage_warnings(answers: Sequence[ModelAnswers], roles: Sequence[str]) -> list[str]:
    """One line per test model or control that lacks answers for some prompts: it is judged on the
    rest, which the decision does not otherwise show."""
    out = []
    for m, role in zip(answers, roles, strict=True):
        missing = m.missing()["count"]
        if missing:
            out.append(
                f"{role} {m.name}: no answer for {missing} of its {len(m.answers)} prompt turns; it is "
                "attributed and judged on the rest"
            )
    return out


def family_coverage_warnings(members: Sequence[tuple[str, ModelAnswers]]) -> list[str]:
    """One line per family that has no answer, from any of its models, to some prompt turns: the
    classifier then also learns which prompts a family answered, not only how it writes (a bank whose
    models answered different prompts). Nothing else in the result shows it."""
    answered: dict[str, set[Any]] = {}
    turns: set[Any] = set()
    for family, m in members:
        keys = answered.setdefault(family, set())
        for key, answer in m.answers.items():
            turns.add(key)
            if answer.text is not None:
                keys.add(key)
    out = []
    for family, keys in answered.items():
        lacking = len(turns - keys)
        if lacking:
            out.append(
                f"family {family}: none of its models answered {lacking} of the {len(turns)} prompt turns; "
                "families that answered different prompts can be told apart by topic as well as by style"
            )
    return out


async def run_attribution(
    ctx: RunContext,
    *,
    families: Mapping[str, Sequence[Contestant]],
    tests: Sequence[Contestant],
    datasets: Sequence[Dataset],
    controls: Sequence[Contestant] = (),
    alpha: float = 0.05,
    seed: int = 0,
    features: FeatureSet = DEFAULT_FEATURES,
    settings: dict[str, Any] | None = None,
    bank: BankSummary | None = None,
    notes: Sequence[str] = (),
) -> AttributionResult:
    """The whole run; returns what it wrote to results.json. `controls`: models known not to be
    trained on any family's outputs; they never train a family, they calibrate the decision. `bank`
    and `notes` (warnings of the bank resolution) are recorded as they are."""
    naming = ctx.options.naming
    check_roles(families, tests, controls, naming)
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
        roles = [
            *(["family member"] * len(members)),
            *(["--test"] * len(tests)),
            *(["--control"] * len(controls)),
        ]
        for answers, role in zip(everyone, roles, strict=True):
            setting = {"--test": "tests", "--control": "controls"}.get(role)
            require_some_answers(
                answers, naming(setting, answers.name) if setting else f"{role} {answers.name}"
            )
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
        test_docs = {m.name: docs_of(m) for m in test_answers}
        control_docs = {m.name: docs_of(m) for m in control_answers}
        log.info("attribution: cross-fitting on %d family answers", len(family_docs))
        store = FeatureStore(feature_store_path(ctx.ledger.path))
        try:
            # no live bar while fitting (no calls to count): its thread would keep the fits from forking
            with ctx.progress.paused(), featurecache.using(featurecache.FeatureCache(store)):
                found = attribute(
                    family_docs,
                    test_docs,
                    control_docs=control_docs,
                    alpha=alpha,
                    seed=seed,
                    features=features,
                    naming=naming,
                )
                evidence = telling_features(family_docs, seed=seed, features=features, counted=found.counted)
        finally:
            store.close()
        for m in test_answers:
            found.models[m.name].n_missing = m.missing()["count"]
        for m in control_answers:
            found.controls[m.name].n_missing = m.missing()["count"]
        result.models = found.models
        result.controls = found.controls
        result.held_out = found.held_out
        result.held_out_members = found.held_out_members
        result.warnings = [
            *notes,
            *(w for d in datasets if (w := d.warning())),
            *separability_warnings(found.held_out),
            *member_warnings(found.held_out_members, family_docs, alpha),
            *unchecked_member_warnings(found.held_out_members, family_docs),
            *control_warnings(found.controls, naming),
            *family_coverage_warnings(
                [(family, m) for (family, _), m in zip(members, member_answers, strict=True)]
            ),
            *coverage_warnings(everyone[len(members) :], roles[len(members) :]),
        ]
        for warning in result.warnings:
            log.warning("rse attribute: %s", warning)
        write_jsonl(ctx.out / "probabilities.jsonl", probability_rows(found.fit, list(found.controls)))
        write_json(ctx.out / "features.json", evidence)
        result.evidence = {f: [TellingFeature(**x) for x in items[:10]] for f, items in evidence.items()}
        result.complete = True
    except BudgetExhausted as exc:
        result.stop_reason = str(exc)
        log.warning("rse attribute stopped: %s", exc)
    cut = ctx.cut_answers(announce=False)  # attributed as cut: a warning of the run, shown with its results
    for warning in cut:
        log.warning("rse attribute: %s", warning)
    result.warnings += cut
    result.run = RunSummary.model_validate(ctx.run_summary())
    result.write(ctx.out)
    return result
