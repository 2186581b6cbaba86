"""`ice run` and `ice rescore`: build the parts, drive them, and write the run directory.

    DIR/responses.jsonl  (run) every target answer with its template lineage, probe and ledger key
    DIR/templates.jsonl  (run) every seed and mutant with its reward
    DIR/verdicts.jsonl   one verdict per response, in input order
    DIR/results.json     scores and breakdowns, written last and atomically

A run stopped by --max-calls/--max-tokens-total still writes what it has, with
`"complete": false`. Failed target calls are counted as failed, never judged or scored, and leave
the run `"complete": false` too (a rerun of the same command asks them again).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from distillscope.engine.run import RunContext, log, write_jsonl
from distillscope.errors import BudgetExhausted, UserError, failed_calls_reason
from distillscope.ice.fuzzer.engine import FuzzSettings, IceEngine, parallel_width
from distillscope.ice.fuzzer.mutators import MUTATORS
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges import Judge, JudgeContext, escalation_needs_hybrid, judge_report, make_judge
from distillscope.ice.judges.base import checked_verdicts
from distillscope.ice.judges.hybrid import Escalation, HybridJudge
from distillscope.ice.judges.llm import check_preset
from distillscope.ice.judges.recorded import Labels
from distillscope.ice.judges.workers import close_judge, rescore_workers, with_workers
from distillscope.ice.logs import LogRow, iter_log
from distillscope.ice.probability import doubt_p, load_calibration
from distillscope.ice.probes import load_probes
from distillscope.ice.scoring import (
    UNKNOWN_CATEGORY,
    Outcome,
    breakdowns,
    categories,
    n_unsure,
    outcome,
    scores,
)
from distillscope.ice.templates import DEFAULT_VENDOR_WORDS, load_templates
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict
from distillscope.jsonl import AtomicJsonlWriter
from distillscope.judging.structured import check_mode
from distillscope.models.base import ModelIdentity
from distillscope.naming import Naming, flag
from distillscope.results.ice import IceResult
from distillscope.seeds import check_seed

MODES = ("fuzz", "grid", "plain")
# The verdicts.jsonl note of a reply that is not an answer (counted as n_empty / n_filtered).
NOT_AN_ANSWER = {
    "empty": "empty answer (null or blank content): not judged",
    "filtered": "stopped by the provider's content filter: not judged",
}
DEFAULT_FUZZ_BUDGET = 1000  # the paper judged 1000 responses per model
# From this many target queries on, the judge's patterns are compiled ahead, in the lulls of the
# run's traffic (a run that long meets nearly all of them; a shorter one compiles only its own)
WARM_MIN_QUERIES = 100


@dataclass
class IceRunSettings:
    """Every flag of `ice run` (recorded in results.json `settings`)."""

    target: str
    mutator: str | None = None
    judge: str = "rules"
    judge_model: str | None = None
    judge_preset: str = "rubric"
    structured: str = "auto"
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
    identities: str | None = None  # a YAML file of extra model families (IdentityRegistry.extended)
    max_contradictions: int | None = None
    parallel_mutations: int | None = None  # None: derived from the concurrency and probes per mutant
    judge_workers: int | None = None  # processes judging beside the event loop; None: auto
    judge_calibration: str | None = None  # a judge-calibration file for the LLM judge's probabilities
    judge_max_input_tokens: int | None = None  # the LLM judge shortens longer requests from the middle
    escalate: float | None = None  # hybrid: the fraction of least certain answers sent to the LLM
    escalate_band: str | None = None  # hybrid: "LO,HI": answers with p_loose in the band go to the LLM
    judge_weights: str | None = None  # the rules judge's scorer weights file (None: the shipped one)

    def validate(self, name: Naming = flag) -> None:
        """Every setting checked; an error names it as `name` does (the CLI's flag, the API's keyword)."""
        check_judge_options(self.judge, self.judge_calibration, self.judge_max_input_tokens,
                            self.escalate, self.escalate_band, name, judge_model=self.judge_model,
                            preset=self.judge_preset, structured=self.structured)  # fmt: skip
        check_preset(self.judge_preset, name)
        check_mode(self.structured, name)
        check_seed(self.seed, name("seed"))
        if self.mode not in MODES:
            raise UserError(f"{name('mode', self.mode)}: expected one of {', '.join(MODES)}")
        # max_answer_tokens too: else pydantic refused it mid-run as "invalid value for 'max_tokens'"
        for setting in (
            "budget",
            "probes_per_mutant",
            "max_contradictions",
            "parallel_mutations",
            "max_answer_tokens",
        ):
            value = getattr(self, setting)
            if value is not None and value < 1:
                raise UserError(f"{name(setting)} must be at least 1, got {value}")
        check_workers(self.judge_workers, name)
        check_weights(self.judge_weights)
        if self.mode != "fuzz" and (
            self.max_contradictions is not None or self.parallel_mutations is not None
        ):
            raise UserError(
                f"{name('max_contradictions')} and {name('parallel_mutations')} apply to {name('mode', 'fuzz')} only"
            )
        # A list given that names nothing (`--languages ,`, `--template-ids ""` from an unset shell
        # variable, `languages=[]`) took every language or template without a word, as if not given.
        for setting, what in (("languages", "language"), ("template_ids", "template id")):
            chosen = getattr(self, setting)
            if chosen is not None and not any(str(v).strip() for v in chosen):
                raise UserError(
                    f"{name(setting)}: names no {what}: give at least one, or leave it out to take every one"
                )
        if self.template_ids is not None and self.mode == "plain":
            raise UserError(
                f"{name('template_ids')} applies to {name('mode', 'fuzz')} or grid; plain asks no template"
            )
        unknown = [m for m in self.mutators if m not in MUTATORS]
        if unknown or not self.mutators:
            raise UserError(MUTATORS.unknown_message(unknown, flag=name("mutators")))
        if not 0 <= self.alpha <= 1 or not 0 <= self.beta <= 1 or self.ratio < 0:
            raise UserError(
                f"{name('alpha')} and {name('beta')} must be in [0, 1] and {name('ratio')} at least 0"
            )
        if not [w for w in self.vendor_words if w.strip()]:
            raise UserError(f"{name('vendor_words')}: give at least one word")


def check_weights(path: str | None) -> None:
    """`--judge-weights`: the file must be a usable weights file (UserError naming it), before
    anything is judged or written."""
    if path is not None:
        from distillscope.ice.judges.weights import ScorerWeights

        ScorerWeights.load(path)


def check_workers(workers: int | None, name: Naming = flag) -> None:
    if workers is not None and not 0 <= workers <= 64:
        raise UserError(f"{name('judge_workers')} must be auto or 0 to 64, got {workers}")


@dataclass
class IceRescoreSettings:
    log: str
    judge: str = "rules"
    judge_model: str | None = None
    target_org: str | None = None
    vendor_words: list[str] = field(default_factory=lambda: list(DEFAULT_VENDOR_WORDS))
    seed: int = 0
    identities: str | None = None  # a YAML file of extra model families (IdentityRegistry.extended)
    judge_preset: str = "rubric"
    structured: str = "auto"
    # Processes judging the chunks; None: auto (one per core for 300+ responses), which the CLI asks
    # for. The library's default is none: spawned workers re-import the main module, which a script
    # without an `if __name__ == "__main__"` guard would run again.
    judge_workers: int | None = 0
    judge_calibration: str | None = None
    judge_max_input_tokens: int | None = None
    escalate: float | None = None
    escalate_band: str | None = None
    judge_weights: str | None = None  # the rules judge's scorer weights file (None: the shipped one)


def check_judge_options(
    judge: str,
    calibration: str | None,
    max_input_tokens: int | None,
    escalate: float | None,
    band: str | None,
    name: Naming = flag,
    *,
    judge_model: str | None = None,
    preset: str = "rubric",
    structured: str = "auto",
) -> None:
    """The LLM-judge settings fit the judge (a calibration file is read and checked here, before
    anything is judged); an error names a setting as `name` does. A setting of the LLM judge given
    to a judge that asks none (`rules`, `recorded`) is refused, as is an LLM given twice: each was
    ignored without a word (`--judge-model M` with the default `--judge rules` judged offline)."""
    kind, _, arg = judge.strip().partition(":")
    offline = kind in ("rules", "recorded") and ":" not in judge.strip()
    if calibration is not None:
        if offline:
            raise UserError(
                f"{name('judge_calibration')} calibrates an LLM judge, and {name('judge', judge)} asks none"
            )
        load_calibration(calibration)
    if judge_model is not None:
        if kind != "hybrid":
            raise UserError(
                f"{name('judge_model', judge_model)} names the LLM behind {name('judge', 'hybrid')}, and "
                f"{name('judge', judge)} does not use one there: use {name('judge', 'hybrid')} (or "
                f"{name('judge', judge_model)} for an LLM judge of every answer)"
            )
        if arg.strip():
            raise UserError(
                f"{name('judge', judge)} names its LLM already, and {name('judge_model', judge_model)} another: give one"
            )
    if offline:
        for setting, value, unset in (
            ("judge_max_input_tokens", max_input_tokens, None),
            ("judge_preset", preset, "rubric"),
            ("structured", structured, "auto"),
        ):
            if value != unset:
                raise UserError(
                    f"{name(setting, value)} applies to an LLM judge, and {name('judge', judge)} asks none"
                )
    if max_input_tokens is not None and max_input_tokens < 1:
        raise UserError(f"{name('judge_max_input_tokens')} must be at least 1, got {max_input_tokens}")
    escalation = Escalation.parse(escalate, band, name)
    if escalation is not None and kind != "hybrid":
        raise UserError(escalation_needs_hybrid(name))


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


def given_list(value: str | None) -> list[str] | None:
    """`a,b,c` -> ["a", "b", "c"]; None -> None; a value that lists nothing (`,`, blank) -> [],
    which the settings' check refuses (it is not "every one")."""
    return None if value is None else parse_list(value) or []


def _result_block(
    *,
    target: str | None,
    identity: TargetIdentity,
    judge: Judge,
    keys: Sequence[dict[str, Any]],
    outcomes: Sequence[Outcome],
    n_failed: int,
    n_empty: int = 0,
    n_filtered: int = 0,
) -> dict[str, Any]:
    """The scores part of results.json for one target: `keys` are each response's breakdown keys,
    `outcomes` its labels, in the same order. Empty and filtered replies are counted, never judged."""
    n_judged = sum(o.loose is not None for o in outcomes)
    by_category = categories(outcomes)
    block: dict[str, Any] = {
        "target": target,
        "target_identity": identity,
        "judge": judge.name,
        "n_responses": len(keys),
        "n_failed": n_failed,
        "n_empty": n_empty,
        "n_filtered": n_filtered,
        "n_judged": n_judged,
        "n_unjudged": len(keys) - n_failed - n_empty - n_filtered - n_judged,
        "n_unsure": n_unsure(outcomes),
        "scores": scores(outcomes, judge.transfer()),
        "categories": by_category,
        "breakdowns": breakdowns(keys, outcomes),
        "judge_calls": judge_report(judge),
    }
    if by_category and set(by_category) == {UNKNOWN_CATEGORY}:
        block["categories_note"] = f"the {judge.name} judge gives no category: every verdict is 'unknown'"
    return block


def _verdict_row(
    index: int, verdict: Verdict | None, result: Outcome, note: str | None = None
) -> dict[str, Any]:
    note = note or (verdict.note if verdict is not None else None)
    return {
        "index": index,
        "loose": result.loose,
        "strict": result.strict,
        "hard": result.hard,
        "category": result.category,
        "unsure": result.unsure,
        "evidence": verdict.evidence if verdict else None,
        # the families or organisations a contradiction claims (the distillation verdict counts them)
        **(
            {"claimed": list(verdict.claimed)}
            if verdict is not None and verdict.claimed and result.loose
            else {}
        ),
        "judge": verdict.judge if verdict else None,
        # the judge's probabilities, where it gives them (the default judge always does)
        **({"p_loose": result.p_loose, "p_strict": result.p_strict} if result.p_loose is not None else {}),
        **({"truncated": True} if verdict is not None and verdict.truncated else {}),
        **({"note": note} if note else {}),
    }


def _recorded_width(out: Path) -> int | None:
    """The fuzz width an earlier run into `out` recorded: a different width would make different
    choices, so a resumed run would not reuse the calls it already paid for."""
    try:
        recorded = json.loads((out / "config.json").read_text(encoding="utf-8"))["ice"]["parallel_mutations"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (
        recorded if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 1 else None
    )


# ---------------------------------------------------------------------------------- ice run
def _make_judge(
    ctx: RunContext,
    registry: IdentityRegistry,
    spec: str,
    judge_model: str | None,
    seed: int,
    preset: str,
    structured: str,
    labels: dict[int, Labels] | None = None,
    s: IceRunSettings | IceRescoreSettings | None = None,
) -> Judge:
    """The judge of `ice run` and `ice rescore`, from their flags (preset and structured mode checked)."""
    calibration = load_calibration(s.judge_calibration) if s and s.judge_calibration else None
    name = ctx.options.naming
    judge = make_judge(
        spec,
        JudgeContext(
            ctx=ctx, registry=registry, judge_model=judge_model, seed=seed, labels=labels,
            preset=check_preset(preset, name), structured=check_mode(structured, name), calibration=calibration,
            max_input_tokens=s.judge_max_input_tokens if s else None,
            escalation=Escalation.parse(s.escalate, s.escalate_band, name) if s else None,
            weights=s.judge_weights if s else None, naming=name,
        ),
    )  # fmt: skip
    if s is not None and calibration is not None and calibration.judge is not None:
        _warn_other_judge(ctx, s.judge_calibration, calibration.judge, judge)
    return judge


def _warn_other_judge(ctx: RunContext, path: str | None, fitted_for: str, judge: Judge) -> None:
    """One line where a calibration file fitted for one judge (e.g. `ice audit calibrate` on a rules
    run records "rules") is applied to another LLM judge: its cells may not fit that judge's answers.
    A warning, not an error: the same judge may run under another name (a renamed endpoint)."""
    llm = getattr(judge, "llm", judge)  # hybrid:SPEC applies it to its LLM
    name = getattr(llm, "name", None)
    if isinstance(name, str) and name != fitted_for:
        message = (
            f"warning: {path}: a calibration fitted for judge {fitted_for!r}, applied to {name!r}: "
            "its probabilities may not fit this judge"
        )
        log.warning(message)
        ctx.progress.note(message)


async def _escalate_run(judge: Judge, engine: IceEngine) -> None:
    """The second pass of `--escalate`: the least certain answers of the whole run to the LLM."""
    if not isinstance(judge, HybridJudge) or judge.escalation is None:
        return
    answered = [
        (r, v)
        for r, v in zip(engine.responses, engine.verdicts, strict=False)
        if v is not None and r.response
    ]
    judge.select([r.index for r, _ in answered], [doubt_p(v) for _, v in answered])
    chosen = [(k, r) for k, (r, _) in enumerate(answered) if r.index in judge.selected]
    items = [
        JudgeItem(index=r.index, prompt=r.prompt, query=r.query, response=r.response or "") for _, r in chosen
    ]
    verdicts = [answered[k][1] for k, _ in chosen]
    await judge.escalate(items, verdicts, engine.identity)
    at = {r.index: pos for pos, r in enumerate(engine.responses)}
    for (_, r), verdict in zip(chosen, verdicts, strict=True):
        engine.verdicts[at[r.index]] = verdict


async def run_ice(ctx: RunContext, s: IceRunSettings, out: Path | None = None) -> IceResult:
    """Probe the target (fuzz, grid or plain), judge, score, and write the run directory."""
    s.validate(ctx.options.naming)
    out = out or ctx.out
    out.mkdir(parents=True, exist_ok=True)
    probes = load_probes(s.probes, s.languages, ctx.options.naming)
    templates = load_templates(s.templates) if s.mode != "plain" else []
    if s.template_ids and templates:
        known = {t.id for t in templates}
        missing = [i for i in s.template_ids if i not in known]
        if missing:
            raise UserError(
                f"{ctx.options.naming('template_ids')}: no template {', '.join(missing)} in {s.templates}"
            )
        templates = [t for t in templates if t.id in set(s.template_ids)]
    registry = IdentityRegistry.load(s.identities)
    target = ctx.model(s.target, system_prompt=s.system_prompt)
    identity = registry.resolve(
        model_name=target.config.model, org=s.target_org, declared=target.config.identity,
        name=ctx.options.naming,
    )  # fmt: skip
    judge = _make_judge(ctx, registry, s.judge, s.judge_model, s.seed, s.judge_preset, s.structured, s=s)
    judge = with_workers(judge, s.judge_workers or 0)  # auto: on the event loop (see judges/workers.py)
    mutator = ctx.model(s.mutator or s.target) if s.mode == "fuzz" else None
    width = None
    if s.mode == "fuzz":  # iterations in flight: enough to keep the target's lane busy
        k = min(s.probes_per_mutant, len(probes))
        width = (
            s.parallel_mutations
            or _recorded_width(out)  # a rerun resumes the run it continues, whatever --concurrency now
            or parallel_width(ctx.scheduler.limit(target), k)
        )
    settings = {
        **asdict(s),
        "parallel_mutations": width,
        "judge_workers": getattr(judge, "workers", 0),  # in effect (auto resolved)
        "budget": s.budget if s.budget is not None or s.mode != "fuzz" else DEFAULT_FUZZ_BUDGET,
        **shared_flags(ctx, out),
        "system_prompt": target.config.system_prompt,  # the one in effect (flag or config)
    }
    ctx.write_config({"ice": settings})
    expected = settings["budget"] if s.mode == "fuzz" else len(probes) * max(1, len(templates))
    if s.budget is not None:
        expected = min(expected, s.budget)
    if expected >= WARM_MIN_QUERIES:  # a short run would compile patterns its answers never reach
        ctx.warm_up([*judge.warm_jobs(), IceResult.model_rebuild])
    engine = IceEngine(
        ctx.scheduler, target, judge, identity, seed=s.seed, answer_tokens=s.max_answer_tokens,
        naming=ctx.options.naming,
    )  # fmt: skip
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
                mutator_max_tokens=s.mutator_max_tokens, max_contradictions=s.max_contradictions,
                width=width or 1,
            )  # fmt: skip
            await engine.run_fuzz(templates, probes, mutator, fuzz)
            complete = not engine.mutator_gave_up  # stopped short of its budget: say so, not "complete"
        await _escalate_run(judge, engine)
    except BudgetExhausted as exc:
        complete = False
        engine.stop_reason = f"stopped early: {exc}; rerun the same command with a larger limit to resume"
    finally:
        close_judge(judge)
    failed = [r for r in engine.responses if r.response is None]
    if failed:  # not finished-and-clean: say so, and that a rerun asks exactly those calls again
        complete = False
        why = failed_calls_reason(len(failed), len(engine.responses), failed[0].error)
        engine.stop_reason = f"{engine.stop_reason}; {why}" if engine.stop_reason else why
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
    outcomes = [outcome(v, r.prompt, s.vendor_words) for v, r in zip(verdicts, engine.responses, strict=True)]
    block = _result_block(
        target=target.name, identity=identity, judge=judge, keys=rows, outcomes=outcomes,
        n_failed=len(failed),
        n_empty=sum(r.outcome == "empty" for r in engine.responses),
        n_filtered=sum(r.outcome == "filtered" for r in engine.responses),
    )  # fmt: skip
    write_jsonl(out / "responses.jsonl", (r.as_dict() for r in engine.responses))
    write_jsonl(
        out / "verdicts.jsonl",
        (
            _verdict_row(
                r.index,
                v,
                o,
                note=f"target call failed: {r.error}" if r.response is None else NOT_AN_ANSWER.get(r.outcome),
            )
            for r, v, o in zip(engine.responses, verdicts, outcomes, strict=True)
        ),
    )
    if s.mode != "plain":
        write_jsonl(out / "templates.jsonl", (asdict(t) for t in engine.templates))
    ctx.cut_answers()  # judged as cut: say so (ICE results hold no warnings)
    results = IceResult.model_validate(
        {
            **block,
            "mode": s.mode,
            "target_queries": engine.queries,
            "stop_reason": engine.stop_reason,
            "settings": settings,
            "complete": complete,
            "run": ctx.run_summary(),
        }
    )
    results.write(out)
    return results


# ---------------------------------------------------------------------------------- ice rescore
RESCORE_CHUNK = 1000  # responses judged (and, for an LLM judge, sent through the scheduler) at a time


@dataclass
class _LogModel:
    """What the first pass over a log learns about one model's rows."""

    orgs: set[str] = field(default_factory=set)
    partial: bool = False  # some row says complete_run: false


@dataclass
class _LogScan:
    models: dict[str | None, _LogModel]  # in order of first appearance
    labels: dict[int, Labels]  # recorded (loose, strict) by row index, rows with any label
    n_rows: int


def _scan_log(path: Path, *, check_labels: bool = False) -> _LogScan:
    """First pass: check every row and collect the models, organisations and recorded labels, without
    keeping any text (a log of 100,000 responses need not fit in memory)."""
    models: dict[str | None, _LogModel] = {}
    labels: dict[int, Labels] = {}
    shared: dict[Labels, Labels] = {}  # one tuple per distinct label pair
    n_rows = 0
    for row in iter_log(path, details=False):
        info = models.get(row.model)
        if info is None:
            info = models[row.model] = _LogModel()
        if row.target_org:
            info.orgs.add(row.target_org)
        if row.complete_run is False:
            info.partial = True
        if check_labels and row.strict is True and row.loose is False:
            raise UserError.at(
                path,
                "recorded strict label is true but loose is false (a strict contradiction is also a loose one)",
                line=row.line,
                field="strict",
            )
        if row.loose is not None or row.strict is not None:
            pair = (row.loose, row.strict)
            labels[row.index] = shared.setdefault(pair, pair)
        n_rows += 1
    if not n_rows:
        raise UserError(f"{path}: no responses in the log")
    return _LogScan(models, labels, n_rows)


def _group_identity(
    registry: IdentityRegistry,
    model: str | None,
    orgs: set[str],
    org: str | None,
    path: Path,
    name: Naming = flag,
) -> TargetIdentity:
    """The identity of one model's rows, by the registry's precedence (the log's `target_org` column
    is the declared identity); rows that disagree about it need --target-org."""
    if not org and len(orgs) > 1:
        raise UserError(
            f"{path}: model {model or '(unnamed)'} has rows with different target_org values ({', '.join(sorted(orgs))})"
        )
    if not (org or orgs or model):
        raise UserError(
            f"{path}: the log names no model or organisation: pass {name('target_org', 'ORGANISATION')}"
        )
    declared = ModelIdentity(organisation=next(iter(orgs))) if orgs else None
    return registry.resolve(model_name=model, org=org, declared=declared, name=name)


@dataclass
class _Tally:
    """One model's judged rows, as little as scoring needs: the outcome and the breakdown keys of
    each row (both shared between rows that have equal ones)."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    n_failed: int = 0
    n_empty: int = 0
    n_filtered: int = 0


class _Interner:
    """Returns one shared object for equal values, so 100,000 rows hold a few hundred distinct ones."""

    def __init__(self) -> None:
        self._outcomes: dict[Outcome, Outcome] = {}
        self._keys: dict[tuple[Any, ...], dict[str, Any]] = {}

    def outcome(self, value: Outcome) -> Outcome:
        return self._outcomes.setdefault(value, value)

    def keys(self, row: LogRow) -> dict[str, Any]:
        keys = row.breakdown_keys()
        return self._keys.setdefault(tuple(keys.values()), keys)


def _chunks(rows: Iterator[LogRow], size: int) -> Iterator[list[LogRow]]:
    chunk: list[LogRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _judge_chunk(
    judge: Judge, chunk: list[LogRow], identities: dict[str | None, TargetIdentity]
) -> dict[int, Verdict]:
    """Verdicts of the answered rows of one chunk, by row index (one `judge_many` per model)."""
    by_model: dict[str | None, list[LogRow]] = {}
    for row in chunk:
        if row.response is not None and row.outcome == "ok":
            by_model.setdefault(row.model, []).append(row)
    verdicts: dict[int, Verdict] = {}
    for model, todo in by_model.items():
        items = [
            JudgeItem(index=r.index, prompt=r.prompt, query=r.query, response=r.response or "") for r in todo
        ]
        found = checked_verdicts(judge, items, await judge.judge_many(items, identities[model]))
        for row, verdict in zip(todo, found, strict=True):
            verdicts[row.index] = verdict
    return verdicts


async def _select_escalated(
    judge: HybridJudge, path: Path, identities: dict[str | None, TargetIdentity]
) -> None:
    """The first pass of `--escalate` over a log: the rules judge every answer (only each one's
    p_loose is kept), and the escalation chooses the answers the judging pass sends to the LLM."""
    indices: list[int] = []
    ps: list[float] = []
    for chunk in _chunks(iter_log(path), RESCORE_CHUNK):
        by_model: dict[str | None, list[LogRow]] = {}
        for row in chunk:
            if row.response is not None and row.outcome == "ok":
                by_model.setdefault(row.model, []).append(row)
        for model, todo in by_model.items():
            items = [
                JudgeItem(index=r.index, prompt=r.prompt, query=r.query, response=r.response or "")
                for r in todo
            ]
            for row, verdict in zip(
                todo, await judge.rules.judge_many(items, identities[model]), strict=True
            ):
                indices.append(row.index)
                ps.append(doubt_p(verdict))
    judge.select(indices, ps)


async def rescore_ice(ctx: RunContext, s: IceRescoreSettings, out: Path | None = None) -> IceResult:
    """Judge the responses of an existing log again and write verdicts and results.

    The log is read twice and never held in memory: a first pass checks it and collects models,
    organisations and labels; the second judges it RESCORE_CHUNK responses at a time and writes
    each verdict as it comes (to a temporary file, renamed when every row is written)."""
    out = out or ctx.out
    path = Path(s.log)
    scan = _scan_log(path, check_labels=s.judge == "recorded")
    registry = IdentityRegistry.load(s.identities)
    name = ctx.options.naming
    check_judge_options(
        s.judge, s.judge_calibration, s.judge_max_input_tokens, s.escalate, s.escalate_band, name,
        judge_model=s.judge_model, preset=s.judge_preset, structured=s.structured,
    )  # fmt: skip
    judge = _make_judge(
        ctx, registry, s.judge, s.judge_model, s.seed, s.judge_preset, s.structured, labels=scan.labels, s=s
    )
    check_workers(s.judge_workers, name)
    workers = s.judge_workers if s.judge_workers is not None else rescore_workers(scan.n_rows)
    judge = with_workers(judge, workers)
    try:
        return await _rescore(ctx, s, out, path, scan, registry, judge)
    finally:
        close_judge(judge)


async def _rescore(
    ctx: RunContext,
    s: IceRescoreSettings,
    out: Path,
    path: Path,
    scan: _LogScan,
    registry: IdentityRegistry,
    judge: Judge,
) -> IceResult:
    identities = {
        model: _group_identity(registry, model, info.orgs, s.target_org, path, ctx.options.naming)
        for model, info in scan.models.items()
    }
    settings = {
        **asdict(s),
        "log": str(path),
        "log_resolved": str(path.resolve()),  # `log` as typed is relative to this folder (logs.rescored_log)
        **shared_flags(ctx, out),
        "judge_workers": getattr(judge, "workers", 0),
    }
    ctx.write_config({"ice_rescore": settings})
    multi = len(scan.models) > 1
    if isinstance(judge, HybridJudge) and judge.escalation is not None:
        await _select_escalated(judge, path, identities)
    tallies = {model: _Tally() for model in scan.models}
    shared = _Interner()
    complete = True
    stop: str | None = None
    with AtomicJsonlWriter(out / "verdicts.jsonl") as verdicts_out:
        for chunk in _chunks(iter_log(path), RESCORE_CHUNK):
            verdicts: dict[int, Verdict] = {}
            if complete:
                try:
                    verdicts = await _judge_chunk(judge, chunk, identities)
                except BudgetExhausted as exc:
                    complete = False
                    stop = f"stopped early: {exc}; rerun the same command with a larger limit to resume"
            for row in chunk:
                verdict = verdicts.get(row.index)
                result = shared.outcome(outcome(verdict, row.prompt, s.vendor_words))
                tally = tallies[row.model]
                tally.keys.append(shared.keys(row))
                tally.outcomes.append(result)
                tally.n_failed += row.response is None
                tally.n_empty += row.outcome == "empty"
                tally.n_filtered += row.outcome == "filtered"
                note = "recorded call had failed" if row.response is None else NOT_AN_ANSWER.get(row.outcome)
                verdicts_out.write(
                    {
                        **_verdict_row(row.index, verdict, result, note=note),
                        **({"model": row.model} if multi else {}),
                    }
                )
    blocks: dict[str | None, dict[str, Any]] = {}
    for model, tally in tallies.items():
        block = _result_block(
            target=model, identity=identities[model], judge=judge, keys=tally.keys, outcomes=tally.outcomes,
            n_failed=tally.n_failed, n_empty=tally.n_empty, n_filtered=tally.n_filtered,
        )  # fmt: skip
        block.pop("judge_calls")
        if scan.models[model].partial:
            block["log_complete"] = False
            block["note"] = (
                "the log holds only part of this model's run (complete_run: false): its scores are not comparable"
            )
        blocks[model] = block
    common = {
        "judge": judge.name,
        "judge_calls": judge_report(judge),
        "settings": settings,
        "stop_reason": stop,
        "complete": complete,
    }
    ctx.cut_answers()  # the judge's answers (the log's are read whole)
    if not multi:
        data = {**next(iter(blocks.values())), **common, "run": ctx.run_summary()}
    else:
        data = {
            "target": None,
            "n_responses": scan.n_rows,
            "models": {str(model): block for model, block in blocks.items()},
            **common,
            "run": ctx.run_summary(),
        }
    results = IceResult.model_validate(data)
    results.write(out)
    return results
