"""`rse run`: the reference and every test model answer the prompts, a judge rates each test answer
against the reference answer, and the scores are summarised.

Files in the run directory (results.json last and atomically, so it exists only for a run that
got that far; `complete` says whether every step finished):

    responses.jsonl   every answer of every model (missing ones with the reason)
    judgments.jsonl   one line per (model, dataset, item) with aspect scores, judge and evidence
    results.json      scores per model per dataset, the average, paired differences, contrast
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from distillscope.engine.run import RunContext, write_jsonl
from distillscope.errors import BudgetExhausted, UserError, failed_calls_reason
from distillscope.jsonl import AtomicJsonlWriter
from distillscope.models.base import Backend
from distillscope.models.replay import ReplayBackend
from distillscope.models.types import GenerateParams
from distillscope.naming import Naming, flag
from distillscope.results.rse import RseResult
from distillscope.rse.bias import self_preference
from distillscope.rse.contrast import contrast_from_judgments
from distillscope.rse.datasets import Dataset
from distillscope.rse.foils import foil_comparison
from distillscope.rse.judging import JudgeOptions, build_judge, judge_against, judge_models, judge_settings
from distillscope.rse.responses import ModelAnswers, collect_answers, planned_requests
from distillscope.rse.scoring import Judgment, model_summary, paired_comparisons, skipped_pairs
from distillscope.rse.types import Prompt, SimilarityJudge

log = logging.getLogger("distillscope")


@dataclass
class Contestant:
    """A model taking part, under the name it has in results.json."""

    name: str
    backend: Backend
    params: GenerateParams = field(default_factory=GenerateParams)


def check_names(contestants: Sequence[Contestant], what: str, name: Naming = flag) -> None:
    seen: set[str] = set()
    for c in contestants:
        if c.name in seen:
            raise UserError(
                f"two {what} are named '{c.name}' (replay: models are named after their file stem, or "
                "after the folder of a responses.jsonl or model_outputs.json); rename a file or define "
                f"the models with distinct names in {name('config')}"
            )
        seen.add(c.name)


async def answer_all(
    ctx: RunContext, contestants: Sequence[Contestant], datasets: Sequence[Dataset]
) -> list[ModelAnswers]:
    """Every contestant answers every prompt, all models at once (each lane bounds its own calls)."""
    prompts = [p for d in datasets for p in d.prompts]
    tasks = [
        asyncio.ensure_future(
            collect_answers(ctx.scheduler, c.backend, prompts, params=c.params, name=c.name)
        )
        for c in contestants
    ]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


MISSING_IDS_SHOWN = 5


def check_replay_coverage(
    contestants: Sequence[Contestant],
    datasets: Sequence[Dataset],
    *,
    allow_missing: bool,
    name: Naming = flag,
) -> None:
    """A replay file without an answer for some selected prompt is a `UserError` naming the file,
    the number missing and the first ids, before any model is called, unless `allow_missing`
    (then the run goes on and `missing` in results.json counts them)."""
    prompts = [p for d in datasets for p in d.prompts]
    for c in contestants:
        backend = c.backend
        if not isinstance(backend, ReplayBackend):
            continue
        planned = planned_requests(prompts, c.params)
        missing = [
            f"{item.dataset}/{item.key}" for item, request in planned if backend.index.lookup(request) is None
        ]
        if missing and not allow_missing:
            raise UserError(
                f"{backend.path}: no recorded answer for {len(missing)} of the {len(planned)} selected prompts "
                f"(first: {', '.join(missing[:MISSING_IDS_SHOWN])}); add the answers, select fewer prompts, "
                f"or pass {name('allow_missing', True)} to score the rest (the missing are counted in results.json)"
            )
        if missing:
            log.warning(
                "%s: no recorded answer for %d prompts (%s)",
                backend.path,
                len(missing),
                name("allow_missing", True),
            )


def answers_key(c: Contestant, prompts: Sequence[Prompt] | None = None) -> tuple[str, str]:
    """What determines a contestant's answers: its ledger identity and the parameters and system
    prompt in effect; a replay file by its bytes (a copy of the reference's file is the same), or,
    given the run's `prompts`, by its answers to them (a renamed copy, or a file that differs only in
    other rows or ids, gives the same answers)."""
    backend = c.backend
    identity: Any = backend.ledger_identity()
    if isinstance(backend, ReplayBackend):
        if prompts is not None:
            return "replay answers", replay_answers_digest(backend, prompts, c.params) or repr(identity)
        with contextlib.suppress(OSError):
            identity = hashlib.sha256(backend.path.read_bytes()).hexdigest()
    params = backend.config.params.merged(c.params).model_dump(mode="json", exclude_none=True)
    return repr(identity), repr((params, backend.config.system_prompt))


def replay_answers_digest(
    backend: ReplayBackend, prompts: Sequence[Prompt], params: GenerateParams
) -> str | None:
    """A hash of a replay file's answers to every turn of `prompts` (None where it has none of them:
    two files that answer nothing are not the same model's answers)."""
    digest = hashlib.sha256()
    found = False
    for _, request in planned_requests(prompts, params):
        text = backend.index.lookup(request)
        found = found or bool(text)
        digest.update(b"\x00" if text is None else b"\x01" + text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest() if found else None


def check_distinct_from_reference(
    reference: Contestant,
    tests: Sequence[Contestant],
    prompts: Sequence[Prompt] | None = None,
    foils: Sequence[Contestant] = (),
    panel: Sequence[Contestant] = (),
) -> None:
    """A test model that gives the reference's own answers (the same model and settings, or the same
    replay file) would score a perfect 5 that measures nothing: a `UserError`; so would a foil, whose
    contrast with the reference would be nothing, and a panel model, whose perfect 5 would be in the
    panel's typical similarity every test model's contrast subtracts (a study's `foils: [its
    reference]` made every contrast negative, exit 0). Given the run's `prompts`, replay files are
    compared by their answers to them (`answers_key`), as `rse attribute` compares its roles: a
    renamed copy with other answer ids, or with rows for other prompts, is the same answers (by its
    bytes it passed, and scored 5.00)."""
    ref = answers_key(reference, prompts)
    others = [*(("test", t) for t in tests), *(("panel", p) for p in panel), *(("foil", f) for f in foils)]
    for role, other in others:
        if answers_key(other, prompts) == ref:
            raise UserError(
                f"{role} model '{other.name}' gives the same answers as the reference '{reference.name}' "
                "(the same model and settings, the same replay file, or a copy of its answers): compare a "
                "different model"
            )
    check_independent(tests, prompts, foils, panel)


def check_independent(
    tests: Sequence[Contestant],
    prompts: Sequence[Prompt] | None = None,
    foils: Sequence[Contestant] = (),
    panel: Sequence[Contestant] = (),
) -> None:
    """Foils and panel models are independent models: one that gives a test model's answers (or
    another foil's, another panel model's) is a `UserError`. A test model judged against its own
    answers as a foil scores 5 by definition, so its "closer to the reference than to the foils"
    difference was pushed far below zero with a narrow interval (exit 0); a panel model giving a test
    model's answers is in the median that model's contrast subtracts, and a twin in the panel or
    among the foils counts one writer twice."""
    keys = {answers_key(t, prompts): ("test", t.name) for t in tests}
    for role, group in (("panel", panel), ("foil", foils)):
        seen = dict(keys)
        for other in group:
            key = answers_key(other, prompts)
            if key in seen:
                first_role, first = seen[key]
                raise UserError(
                    f"{role} model '{other.name}' gives the same answers as {first_role} model '{first}' (the "
                    f"same model and settings, the same replay file, or a copy of its answers): a {role} model "
                    f"stands for an independent model; give a different one"
                )
            seen[key] = (role, other.name)


def require_some_answers(answers: ModelAnswers, who: str | None = None) -> None:
    """A model with not one answer is a wrong file or model, not a finding: stop and say so, with
    why the answers are missing (empty replies, a server's error). `who` names the model as the
    setting that brought it in (`--control NAME`, `controls=[..., 'NAME', ...]`); by default,
    `model 'NAME'`."""
    if answers.answers and all(a.text is None for a in answers.answers.values()):
        reasons = Counter(
            a.outcome if a.outcome in ("empty", "filtered") else a.error or "no answer"
            for a in answers.answers.values()
        )
        why = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common(3))
        who = who or f"model '{answers.name}'"
        raise UserError(f"{who}: no answer for any of the {len(answers.answers)} prompt turns ({why})")


def response_rows(
    reference: ModelAnswers,
    tests: Sequence[ModelAnswers],
    role_of_extra: str = "panel",
    extra: Sequence[ModelAnswers] = (),
) -> list[dict[str, Any]]:
    rows = [a.row(reference.name, "reference") for a in reference.answers.values()]
    for model in tests:
        rows.extend(a.row(model.name, "test") for a in model.answers.values())
    for model in extra:
        rows.extend(a.row(model.name, role_of_extra) for a in model.answers.values())
    return rows


def _contrast(
    judgments: dict[str, list[Judgment]], panel: dict[str, list[Judgment]], *, seed: int
) -> dict[str, Any] | None:
    """Similarity to the reference minus the panel's typical similarity (needs 3+ models in all)."""
    pool = {**judgments, **panel}
    if len(pool) < 3:
        return None
    return contrast_from_judgments(judgments, panel, seed=seed)


async def run_rse(
    ctx: RunContext,
    *,
    reference: Contestant,
    tests: Sequence[Contestant],
    datasets: Sequence[Dataset],
    judge_options: JudgeOptions,
    panel: Sequence[Contestant] = (),
    foils: Sequence[Contestant] = (),
    settings: dict[str, Any] | None = None,
    judge: SimilarityJudge | None = None,
    allow_missing: bool = False,
) -> RseResult:
    """The whole run; returns what it wrote to results.json."""
    naming = ctx.options.naming
    check_names(tests, "test models", naming)
    check_names([*tests, *panel], "test and panel models", naming)
    check_names([reference, *foils], "reference and foil models", naming)
    check_names([*tests, *foils], "test and foil models", naming)
    check_replay_coverage(
        [reference, *tests, *panel, *foils], datasets, allow_missing=allow_missing, name=naming
    )
    check_distinct_from_reference(reference, tests, [p for d in datasets for p in d.prompts], foils, panel)
    names = [d.name for d in datasets]
    results: dict[str, Any] = {
        "reference": reference.name,
        "judge": judge_options.spec,
        "models": {},
        "datasets": {d.name: d.summary() for d in datasets},
        "settings": settings or {},
        "complete": False,
    }
    try:
        everyone = await answer_all(ctx, [reference, *tests, *panel, *foils], datasets)
        ref_answers, test_answers, panel_answers, foil_answers = (
            everyone[0],
            everyone[1 : 1 + len(tests)],
            everyone[1 + len(tests) : 1 + len(tests) + len(panel)],
            everyone[1 + len(tests) + len(panel) :],
        )
        for answers in everyone:
            require_some_answers(answers)
        rows = response_rows(ref_answers, test_answers, extra=panel_answers)
        rows += [a.row(m.name, "foil") for m in foil_answers for a in m.answers.values()]
        write_jsonl(ctx.out / "responses.jsonl", rows)
        results["missing"] = {
            "reference": ref_answers.missing(),
            "models": {m.name: m.missing() for m in [*test_answers, *panel_answers, *foil_answers]},
        }
        results["not_answers"] = {m.name: m.not_answers() for m in everyone}
        results["n_empty"] = sum(m.not_answers()["empty"] for m in everyone)
        results["n_filtered"] = sum(m.not_answers()["filtered"] for m in everyone)
        judge = judge or build_judge(ctx, judge_options)
        results["judge"] = judge.name
        warnings = [w for d in datasets if (w := d.warning())]
        warnings += [w for m in judge_models(judge) if (w := self_preference(m, reference.name))]
        for warning in warnings:
            log.warning("rse run: %s", warning)
        if warnings:
            results["warnings"] = warnings
        by_model: dict[str, list[Judgment]] = {}
        by_panel: dict[str, list[Judgment]] = {}
        by_foil: dict[str, dict[str, list[Judgment]]] = {}
        with AtomicJsonlWriter(ctx.out / "judgments.jsonl") as judgments_file:  # one model at a time
            for role, group, into in (("test", test_answers, by_model), ("panel", panel_answers, by_panel)):
                for answers in group:
                    judged = await judge_against(judge, ref_answers, answers)
                    for j in judged:
                        judgments_file.write({**j.row(), "role": role})
                    into[answers.name] = judged
            for foil in foil_answers:  # each test answer against the foil's answer to the same prompt
                for answers in test_answers:
                    judged = await judge_against(judge, foil, answers)
                    for j in judged:
                        judgments_file.write({**j.row(), "role": "test", "against": foil.name})
                    by_foil.setdefault(answers.name, {})[foil.name] = judged
            judgments_file.commit()
        seed = int((settings or {}).get("seed", 0) or 0)
        results["models"] = {name: model_summary(js, names, seed=seed) for name, js in by_model.items()}
        if by_panel:
            results["panel"] = {name: model_summary(js, names, seed=seed) for name, js in by_panel.items()}
        results["paired"] = paired_comparisons(by_model, names, seed=seed) if len(by_model) >= 2 else None
        results["contrast"] = _contrast(by_model, by_panel, seed=seed)
        if foil_answers:
            results["foils"] = foil_comparison(by_model, by_foil, [f.name for f in foil_answers], seed=seed)
        results["judge_settings"] = judge_settings(judge, judge_options)
        results["skipped"] = {
            name: skipped_pairs(js) for name, js in {**by_model, **by_panel}.items()
        }  # every pair not scored, by reason (missing, empty, filtered, unjudged)
        for name, per_foil in by_foil.items():  # a test model's pairs with each foil too
            for foil_name, js in per_foil.items():
                results["skipped"][f"{name} vs foil {foil_name}"] = skipped_pairs(js)
        # every pair the judge gave no rating: test, panel and foil pairs (it counted the tests' only)
        results["n_unjudged"] = sum(c["unjudged"] for c in results["skipped"].values())
        # calls that failed (a replay file's gaps are not calls: --allow-missing accepted them)
        asked = [
            a
            for who, m in zip([reference, *tests, *panel, *foils], everyone, strict=True)
            if not isinstance(who.backend, ReplayBackend)
            for a in m.answers.values()
            if a.request is not None
        ]
        failed = [a for a in asked if a.outcome == "missing"]
        if failed:  # not finished-and-clean: a rerun of the same command asks exactly those calls again
            n_calls = len(asked)
            results["stop_reason"] = failed_calls_reason(len(failed), n_calls, failed[0].error, "model calls")
        else:
            results["complete"] = True
    except BudgetExhausted as exc:
        results["stop_reason"] = str(exc)
        log.warning("rse run stopped: %s", exc)
    cut = ctx.cut_answers(announce=False)  # judged as cut: a warning of the run, shown with its results
    for warning in cut:
        log.warning("rse run: %s", warning)
    if cut:
        results["warnings"] = [*results.get("warnings", []), *cut]
    results["run"] = ctx.run_summary()
    typed = RseResult.model_validate(results)
    typed.write(ctx.out)
    return typed
