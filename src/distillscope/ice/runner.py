"""`ice run` and `ice rescore`: build the parts, drive them, and write the run directory.

    DIR/responses.jsonl  (run) every target answer with its template lineage, probe and ledger key
    DIR/templates.jsonl  (run) every seed and mutant with its reward
    DIR/verdicts.jsonl   one verdict per response, in input order
    DIR/results.json     scores and breakdowns, written last and atomically

A run stopped by --max-calls/--max-tokens-total still writes what it has, with
`"complete": false`. Failed target calls are counted as failed, never judged or scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from distillscope.engine.run import RunContext, write_json, write_jsonl
from distillscope.errors import BudgetExhausted, UserError
from distillscope.ice.fuzzer.engine import FuzzSettings, IceEngine
from distillscope.ice.fuzzer.mutators import MUTATORS
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges import Judge, JudgeContext, judge_report, make_judge
from distillscope.ice.logs import LogRow, load_log
from distillscope.ice.probes import load_probes
from distillscope.ice.scoring import Outcome, breakdowns, outcome, scores
from distillscope.ice.templates import DEFAULT_VENDOR_WORDS, load_templates
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict
from distillscope.models.base import ModelIdentity

MODES = ("fuzz", "grid", "plain")
DEFAULT_FUZZ_BUDGET = 1000  # the paper judged 1000 responses per model


@dataclass
class IceRunSettings:
    """Every flag of `ice run` (recorded in results.json `settings`)."""

    target: str
    mutator: str | None = None
    judge: str = "rules"
    judge_model: str | None = None
    mode: str = "fuzz"
    templates: str = "builtin"
    template_ids: list[str] | None = None
    probes: str = "builtin"
    languages: list[str] | None = None
    budget: int | None = None
    probes_per_mutant: int = 50
    seed: int = 0
    target_org: str | None = None
    vendor_words: list[str] = field(default_factory=lambda: list(DEFAULT_VENDOR_WORDS))
    ratio: float = 0.5
    alpha: float = 0.1
    beta: float = 0.2
    mutators: list[str] = field(default_factory=lambda: list(MUTATORS))
    max_answer_tokens: int | None = 512
    mutator_max_tokens: int = 768
    system_prompt: str | None = None

    def validate(self) -> None:
        if self.mode not in MODES:
            raise UserError(f"--mode {self.mode!r}: expected one of {', '.join(MODES)}")
        if self.budget is not None and self.budget < 1:
            raise UserError(f"--budget must be at least 1, got {self.budget}")
        if self.probes_per_mutant < 1:
            raise UserError(f"--probes-per-mutant must be at least 1, got {self.probes_per_mutant}")
        unknown = [m for m in self.mutators if m not in MUTATORS]
        if unknown or not self.mutators:
            raise UserError(
                f"--mutators: unknown {', '.join(unknown) or '(none given)'} (known: {', '.join(MUTATORS)})"
            )
        if not 0 <= self.alpha <= 1 or not 0 <= self.beta <= 1 or self.ratio < 0:
            raise UserError("--alpha and --beta must be in [0, 1] and --ratio at least 0")
        if not [w for w in self.vendor_words if w.strip()]:
            raise UserError("--vendor-words: give at least one word")


@dataclass
class IceRescoreSettings:
    log: str
    judge: str = "rules"
    judge_model: str | None = None
    target_org: str | None = None
    vendor_words: list[str] = field(default_factory=lambda: list(DEFAULT_VENDOR_WORDS))
    seed: int = 0


def shared_flags(ctx: RunContext, out: Path) -> dict[str, Any]:
    """The run-wide flags (--out, --config, --cache, budgets, --concurrency) for `settings`."""
    o = ctx.options
    return {
        "out": str(out),
        "config": str(o.config) if o.config else None,
        "cache": str(o.cache) if o.cache else None,
        "concurrency": o.concurrency,
        "max_calls": o.max_calls,
        "max_tokens_total": o.max_tokens,
    }


def parse_list(value: str | None) -> list[str] | None:
    """`a,b,c` -> ["a", "b", "c"]; None or blank -> None."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def target_identity(
    registry: IdentityRegistry, *, model_name: str | None, org: str | None, declared: ModelIdentity | None
) -> TargetIdentity:
    """--target-org wins, then the config's `identity:`, then the registry by model name."""
    if org:
        return registry.resolve(org=org)
    return registry.resolve(model_name=model_name, declared=declared)


def _result_block(
    *,
    target: str | None,
    identity: TargetIdentity,
    judge: Judge,
    rows: Sequence[dict[str, Any]],
    verdicts: Sequence[Verdict | None],
    failed: Sequence[bool],
    prompts: Sequence[str],
    vendor_words: Sequence[str],
) -> tuple[dict[str, Any], list[Outcome]]:
    """The scores part of results.json for one target."""  # fmt: skip
    outcomes = [outcome(v, p, vendor_words) for v, p in zip(verdicts, prompts, strict=True)]
    n_failed = sum(failed)
    n_judged = sum(o.loose is not None for o in outcomes)
    block = {
        "target": target,
        "target_identity": identity.model_dump(),
        "judge": judge.name,
        "n_responses": len(rows),
        "n_failed": n_failed,
        "n_judged": n_judged,
        "n_unjudged": len(rows) - n_failed - n_judged,
        "scores": scores(outcomes),
        "breakdowns": breakdowns(rows, outcomes),
        "judge_calls": judge_report(judge),
    }
    return block, outcomes


def _verdict_row(
    index: int, verdict: Verdict | None, result: Outcome, note: str | None = None
) -> dict[str, Any]:
    note = note or (verdict.note if verdict is not None else None)
    return {
        "index": index,
        "loose": result.loose,
        "strict": result.strict,
        "hard": result.hard,
        "evidence": verdict.evidence if verdict else None,
        "judge": verdict.judge if verdict else None,
        **({"note": note} if note else {}),
    }


# ---------------------------------------------------------------------------------- ice run
async def run_ice(ctx: RunContext, s: IceRunSettings, out: Path | None = None) -> dict[str, Any]:
    """Probe the target (fuzz, grid or plain), judge, score, and write the run directory."""
    s.validate()
    out = out or ctx.out
    out.mkdir(parents=True, exist_ok=True)
    probes = load_probes(s.probes, s.languages)
    templates = load_templates(s.templates) if s.mode != "plain" else []
    if s.template_ids and templates:
        known = {t.id for t in templates}
        missing = [i for i in s.template_ids if i not in known]
        if missing:
            raise UserError(f"--template-ids: no template {', '.join(missing)} in {s.templates}")
        templates = [t for t in templates if t.id in set(s.template_ids)]
    registry = IdentityRegistry.builtin()
    target = ctx.model(s.target, system_prompt=s.system_prompt)
    identity = target_identity(
        registry, model_name=target.config.model, org=s.target_org, declared=target.config.identity
    )
    judge = make_judge(
        s.judge, JudgeContext(ctx=ctx, registry=registry, judge_model=s.judge_model, seed=s.seed)
    )
    mutator = ctx.model(s.mutator or s.target) if s.mode == "fuzz" else None
    settings = {
        **asdict(s),
        "budget": s.budget if s.budget is not None or s.mode != "fuzz" else DEFAULT_FUZZ_BUDGET,
        **shared_flags(ctx, out),
        "system_prompt": target.config.system_prompt,  # the one in effect (flag or config)
    }
    ctx.write_config({"ice": settings})
    engine = IceEngine(ctx.scheduler, target, judge, identity, seed=s.seed, answer_tokens=s.max_answer_tokens)
    complete = True
    try:
        if s.mode == "plain":
            await engine.run_plain(probes, s.budget)
        elif s.mode == "grid":
            await engine.run_grid(templates, probes, s.budget)
        else:
            assert mutator is not None
            fuzz = FuzzSettings(
                budget=settings["budget"], probes_per_mutant=s.probes_per_mutant, seed=s.seed,
                ratio=s.ratio, alpha=s.alpha, beta=s.beta, mutators=s.mutators,
                mutator_max_tokens=s.mutator_max_tokens,
            )  # fmt: skip
            await engine.run_fuzz(templates, probes, mutator, fuzz)
    except BudgetExhausted as exc:
        complete = False
        engine.stop_reason = f"stopped early: {exc}; rerun the same command with a larger limit to resume"
    verdicts = list(engine.verdicts) + [None] * (len(engine.responses) - len(engine.verdicts))
    rows = [
        {
            "language": r.language,
            "area": r.area,
            "template": r.template_id,
            "mutator": r.mutator,
            "generation": r.generation,
        }
        for r in engine.responses
    ]
    block, outcomes = _result_block(
        target=target.name, identity=identity, judge=judge, rows=rows, verdicts=verdicts,
        failed=[r.response is None for r in engine.responses], prompts=[r.prompt for r in engine.responses],
        vendor_words=s.vendor_words,
    )  # fmt: skip
    write_jsonl(out / "responses.jsonl", (r.as_dict() for r in engine.responses))
    write_jsonl(
        out / "verdicts.jsonl",
        (
            _verdict_row(r.index, v, o, note=f"target call failed: {r.error}" if r.response is None else None)
            for r, v, o in zip(engine.responses, verdicts, outcomes, strict=True)
        ),
    )
    if s.mode != "plain":
        write_jsonl(out / "templates.jsonl", (asdict(t) for t in engine.templates))
    results = {
        **block,
        "mode": s.mode,
        "target_queries": engine.queries,
        "stop_reason": engine.stop_reason,
        "settings": settings,
        "complete": complete,
        "run": ctx.run_summary(),
    }
    write_json(out / "results.json", results)
    return results


# ---------------------------------------------------------------------------------- ice rescore
def _group_rows(rows: list[LogRow]) -> dict[str | None, list[LogRow]]:
    """One group per model when the log mixes models, else one group."""
    models = {r.model for r in rows}
    if len(models) <= 1:
        return {next(iter(models)): rows}
    groups: dict[str | None, list[LogRow]] = {}
    for row in rows:
        groups.setdefault(row.model, []).append(row)
    return groups


def _group_identity(
    registry: IdentityRegistry, model: str | None, rows: list[LogRow], org: str | None, path: Path
) -> TargetIdentity:
    if org:
        return registry.resolve(org=org)
    orgs = {r.target_org for r in rows if r.target_org}
    if len(orgs) > 1:
        raise UserError(
            f"{path}: model {model or '(unnamed)'} has rows with different target_org values ({', '.join(sorted(orgs))})"
        )
    if orgs:
        return registry.resolve(declared=ModelIdentity(organisation=orgs.pop()))
    if model:
        return registry.resolve(model_name=model)
    raise UserError(f"{path}: the log names no model or organisation: pass --target-org ORGANISATION")


async def rescore_ice(ctx: RunContext, s: IceRescoreSettings, out: Path | None = None) -> dict[str, Any]:
    """Judge the responses of an existing log again and write verdicts and results."""
    out = out or ctx.out
    path = Path(s.log)
    rows = load_log(path)
    registry = IdentityRegistry.builtin()
    labels = {r.index: (r.loose, r.strict) for r in rows}
    judge = make_judge(
        s.judge,
        JudgeContext(ctx=ctx, registry=registry, judge_model=s.judge_model, seed=s.seed, labels=labels),
    )
    groups = _group_rows(rows)
    identities = {
        model: _group_identity(registry, model, members, s.target_org, path)
        for model, members in groups.items()
    }
    settings = {**asdict(s), "log": str(path), **shared_flags(ctx, out)}
    ctx.write_config({"ice_rescore": settings})
    verdicts: dict[int, Verdict | None] = {}
    complete = True
    stop: str | None = None
    try:
        for model, members in groups.items():
            todo = [r for r in members if r.response is not None]
            items = [
                JudgeItem(index=r.index, prompt=r.prompt, query=r.query, response=r.response or "")
                for r in todo
            ]
            for row, verdict in zip(todo, await judge.judge_many(items, identities[model]), strict=True):
                verdicts[row.index] = verdict
    except BudgetExhausted as exc:
        complete = False
        stop = f"stopped early: {exc}; rerun the same command with a larger limit to resume"
    blocks: dict[str | None, dict[str, Any]] = {}
    outcome_of: dict[int, Outcome] = {}
    for model, members in groups.items():
        block, outcomes = _result_block(
            target=model, identity=identities[model], judge=judge, rows=[r.breakdown_keys() for r in members],
            verdicts=[verdicts.get(r.index) for r in members], failed=[r.response is None for r in members],
            prompts=[r.prompt for r in members], vendor_words=s.vendor_words,
        )  # fmt: skip
        block.pop("judge_calls")
        partial = [r for r in members if r.complete_run is False]
        if partial:
            block["log_complete"] = False
            block["note"] = (
                "the log holds only part of this model's run (complete_run: false): its scores are not comparable"
            )
        blocks[model] = block
        outcome_of.update({r.index: o for r, o in zip(members, outcomes, strict=True)})
    write_jsonl(
        out / "verdicts.jsonl",
        (
            {
                **_verdict_row(
                    r.index,
                    verdicts.get(r.index),
                    outcome_of[r.index],
                    note="recorded call had failed" if r.response is None else None,
                ),
                **({"model": r.model} if len(groups) > 1 else {}),
            }
            for r in rows
        ),
    )
    common = {
        "judge": judge.name,
        "judge_calls": judge_report(judge),
        "settings": settings,
        "stop_reason": stop,
        "complete": complete,
    }
    if len(groups) == 1:
        results = {**next(iter(blocks.values())), **common, "run": ctx.run_summary()}
    else:
        results = {
            "target": None,
            "n_responses": len(rows),
            "models": {str(model): block for model, block in blocks.items()},
            **common,
            "run": ctx.run_summary(),
        }
    write_json(out / "results.json", results)
    return results
