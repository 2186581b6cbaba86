"""`distillscope ice ...`: Identity Consistency Evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distillscope.cli.options import (
    Cache,
    Concurrency,
    Config,
    Force,
    MaxCalls,
    MaxTokens,
    Out,
    Quiet,
    SystemPrompt,
    console,
    finite_float,
    int64,
    report_warm_jobs,
    run_command,
    write_run_report,
)
from distillscope.cli.terminal import shown
from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.fuzzer.mutators import MUTATORS
from distillscope.ice.runner import (
    IceRescoreSettings,
    IceRunSettings,
    check_judge_options,
    check_weights,
    given_list,
    parse_list,
    rescore_ice,
    run_ice,
)
from distillscope.ice.templates import DEFAULT_VENDOR_WORDS
from distillscope.results.ice import IceResult, IceScores

DEFAULT_VENDOR_LIST = ",".join(DEFAULT_VENDOR_WORDS)

app = typer.Typer(
    help="Identity Consistency Evaluation: does the model claim someone else's identity?",
    no_args_is_help=True,
)

JudgeOpt = Annotated[
    str,
    typer.Option(
        "--judge",
        help="rules (offline), hybrid:SPEC (rules, LLM only when unsure), recorded (rescore: labels in the log), or a model spec (LLM judge).",
    ),
]
JudgeModel = Annotated[str | None, typer.Option("--judge-model", help="The LLM behind --judge hybrid.")]
JudgePreset = Annotated[
    str,
    typer.Option(
        "--judge-preset",
        help="LLM judge definition: rubric (the identity taxonomy: category, loose, strict, sure) or paper (the paper's two questions, for replication).",
    ),
]
Structured = Annotated[
    str,
    typer.Option(
        "--structured",
        help="Ask LLM judges for their verdict schema as structured output (response_format): auto (fall back when a server refuses it), on, or off.",
    ),
]
JudgeCalibration = Annotated[
    Path | None,
    typer.Option(
        "--judge-calibration",
        help="A judge-calibration JSON file (`ice audit calibrate`) that turns the LLM judge's yes/no and `sure` into probabilities; default: an uncalibrated table.",
    ),
]
JudgeMaxInput = Annotated[
    int | None,
    typer.Option(
        "--judge-max-input-tokens",
        help="Shorten LLM judge requests longer than this (estimated) from the middle, both ends kept; without it they are shortened when the server says they exceed its context.",
        parser=int64,
    ),
]
Escalate = Annotated[
    float | None,
    typer.Option(
        "--escalate",
        help="hybrid:SPEC: send this fraction of all answers, the least certain by the rules' probability, to the LLM (e.g. 0.1), after judging everything offline.",
        parser=finite_float,
    ),
]
EscalateBand = Annotated[
    str | None,
    typer.Option(
        "--escalate-band",
        help="hybrid:SPEC: send the answers whose p_loose is in LO,HI (e.g. 0.3,0.7) to the LLM.",
    ),
]
JudgeWorkers = Annotated[
    str,
    typer.Option(
        "--judge-workers",
        help="Processes that run the rules judge beside the event loop: auto (run: 0, on the event loop, which measured as fast; rescore: one per core for 300+ responses), or a number. Same verdicts either way.",
    ),
]
JudgeWeights = Annotated[
    Path | None,
    typer.Option(
        "--judge-weights",
        help="Scorer weights for --judge rules or hybrid (a file written by scripts/build_judge_weights.py); default: the weights shipped in the package.",
    ),
]
TargetOrg = Annotated[
    str | None,
    typer.Option(
        "--target-org",
        help="Who really built the target (e.g. 'Zhipu AI', 'Alibaba Cloud'); default: config identity or the registry by model name.",
    ),
]
Identities = Annotated[
    Path | None,
    typer.Option(
        "--identities",
        help="A YAML file of extra model families (the layout of the builtin identities.yaml), added to the registry.",
    ),
]
VendorWords = Annotated[
    str,
    typer.Option(
        "--vendor-words",
        help="Comma-separated words that make a prompt 'name a vendor' (excluded from the hard score).",
    ),
]


def parse_workers(text: str) -> int | None:
    """`--judge-workers`: auto (None) or a count."""
    value = text.strip().lower()
    if value == "auto":
        return None
    if not value.isdigit():
        from distillscope.errors import UserError

        raise UserError(f"--judge-workers {text!r}: expected auto or a number of processes (0 to 64)")
    return int(value)


def expected_lines(scores: IceScores) -> list[str]:
    """The expected rates (mean probability) beside the thresholded ones, and a warning where
    the two differ by more than their intervals."""
    parts, differ = [], []
    for metric, m in scores.items():
        e = m.expected
        if e is None or e.rate is None:
            continue
        unseen = ""
        if e.unseen_ci95 is not None and e.transfer is not None:
            lo, hi = e.unseen_ci95
            unseen = f"; for a model the judge was not built from {lo:.3f}-{hi:.3f}, its error over {e.transfer.models} models"
        parts.append(f"{metric} {e.rate:.3f} (95% CI {e.ci95[0]:.3f}-{e.ci95[1]:.3f}{unseen})")
        if e.differs:
            differ.append(metric)
    if not parts:
        return []
    lines = ["  expected rate (mean probability): " + "; ".join(parts)]
    if differ:
        lines.append(
            f"  [yellow]note:[/] {', '.join(differ)}: the thresholded and the expected rate differ by more than "
            "their intervals: many verdicts sit near 0.5, or the judge's probabilities do not fit these answers "
            "(audit by doubt: ice audit sample --by doubt)"
        )
    return lines


def print_summary(results: IceResult, out: Path) -> None:
    """Scores on a few lines."""
    for block in results.targets:
        parts = []
        for metric, m in block.scores.items():
            score = "n/a" if m.score is None else f"{m.score:.3f}"
            parts.append(f"{metric} {score} ({m.count}/{m.n}, 95% CI {m.ci95[0]:.3f}-{m.ci95[1]:.3f})")
        org = block.target_identity.organisation
        # a log that names no model scores one unnamed target: say so rather than print an empty name
        name = shown(block.target) if block.target else "unnamed model (the log names none)"
        console.print(
            f"[bold]{name}[/] (built by {shown(org)}): " + "; ".join(parts),
            highlight=False,
        )
        if block.note:
            console.print(f"  [yellow]note:[/] {shown(block.note)}", highlight=False)
        not_answers = "".join(
            f", {n} {word}" for word, n in (("empty", block.n_empty), ("filtered", block.n_filtered)) if n
        )
        console.print(
            f"  {block.n_responses} responses, {block.n_judged} judged, {block.n_unjudged} unjudged, {block.n_failed} failed target calls{not_answers}",
            highlight=False,
        )
        for line in expected_lines(block.scores):
            console.print(line, highlight=False)
    calls = results.judge_calls or {}
    if "escalated" in calls:
        console.print(
            f"escalation: {calls['escalated']} {'answer' if calls['escalated'] == 1 else 'answers'} "
            f"({calls.get('escalation')}) went to the LLM judge: "
            f"{calls.get('llm_judge_calls', 0)} LLM calls made, {calls.get('judge_calls_saved', 0)} saved "
            "against asking it about every answer",
            highlight=False,
        )
    if results.judge_calls:
        console.print(
            "judge: " + ", ".join(f"{k} {v}" for k, v in results.judge_calls.items()), highlight=False
        )
    if not results.complete:
        console.print(f"[yellow]incomplete:[/] {shown(results.stop_reason)}", highlight=False)
    console.print(f"results: {shown(out / 'results.json')}", highlight=False)


@app.command("run")
def run(
    target: Annotated[
        str, typer.Option("--target", "-t", help="The model under test (spec or config name).")
    ],
    out: Out = None,
    mutator: Annotated[
        str | None, typer.Option("--mutator", help="Model that mutates templates (default: the target).")
    ] = None,
    judge: JudgeOpt = "rules",
    judge_model: JudgeModel = None,
    judge_preset: JudgePreset = "rubric",
    structured: Structured = "auto",
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="fuzz (GPTFuzzer), grid (every template x probe) or plain (bare questions)."
        ),
    ] = "fuzz",
    templates: Annotated[
        str,
        typer.Option(
            "--templates", help="builtin, or a GPTFuzzer CSV / EasyJailbreak JSON / YAML / JSONL file."
        ),
    ] = "builtin",
    template_ids: Annotated[
        str | None,
        typer.Option(
            "--template-ids", help="Only these templates (comma-separated ids) as seeds / grid rows."
        ),
    ] = None,
    probes: Annotated[
        str,
        typer.Option(
            "--probes",
            help="builtin, or a YAML/JSONL/CSV file of rows with 'question' (+ id, area, language).",
        ),
    ] = "builtin",
    languages: Annotated[
        str | None, typer.Option("--languages", help="Only probes in these languages, e.g. en,zh.")
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget",
            help="Queries to the target (fuzz default 1000; grid/plain: all, or a seeded sample of N).",
            parser=int64,
        ),
    ] = None,
    probes_per_mutant: Annotated[
        int,
        typer.Option(
            "--probes-per-mutant", help="Probes sampled (seeded) per mutant in fuzz mode.", parser=int64
        ),
    ] = 50,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives the same run.", parser=int64)
    ] = 0,
    target_org: TargetOrg = None,
    identities: Identities = None,
    vendor_words: VendorWords = DEFAULT_VENDOR_LIST,
    ratio: Annotated[
        float,
        typer.Option("--ratio", help="MCTS-Explore exploration weight (GPTFuzzer 0.5).", parser=finite_float),
    ] = 0.5,
    alpha: Annotated[
        float,
        typer.Option(
            "--alpha",
            help="MCTS-Explore penalty per level: early-stop chance and reward discount (GPTFuzzer 0.1).",
            parser=finite_float,
        ),
    ] = 0.1,
    beta: Annotated[
        float,
        typer.Option(
            "--beta",
            help="MCTS-Explore reward floor after the level discount (GPTFuzzer 0.2).",
            parser=finite_float,
        ),
    ] = 0.2,
    mutators: Annotated[
        str, typer.Option("--mutators", help="Comma-separated mutators to draw from.")
    ] = ",".join(MUTATORS),
    max_answer_tokens: Annotated[
        int, typer.Option("--max-answer-tokens", help="Max tokens per target answer.", parser=int64)
    ] = 512,
    max_contradictions: Annotated[
        int | None,
        typer.Option(
            "--max-contradictions",
            help="Fuzz: stop once this many answers contradicted the identity (GPTFuzzer's max-jailbreak), or at --budget.",
            parser=int64,
        ),
    ] = None,
    parallel_mutations: Annotated[
        int | None,
        typer.Option(
            "--parallel-mutations",
            help="Fuzz: MCTS iterations in flight at once (default: enough to keep --concurrency busy; 1 = the paper's serial loop). Recorded: the same value replays the same run.",
            parser=int64,
        ),
    ] = None,
    config: Config = None,
    cache: Cache = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
    system_prompt: SystemPrompt = None,
    judge_workers: JudgeWorkers = "auto",
    judge_calibration: JudgeCalibration = None,
    judge_max_input_tokens: JudgeMaxInput = None,
    escalate: Escalate = None,
    escalate_band: EscalateBand = None,
    judge_weights: JudgeWeights = None,
    force: Force = False,
) -> None:
    """Probe a model's identity through jailbreak-style templates (GPTFuzzer fuzzing, a grid, or plain
    questions), judge every answer, and score loose / strict / hard identity contradictions.

    Example: distillscope ice run --target openai-compatible:glm-4-plus@http://127.0.0.1:8000/v1 --budget 500 --seed 1 --out runs/ice-glm
    """
    settings = IceRunSettings(
        target=target, mutator=mutator, judge=judge, judge_model=judge_model, judge_preset=judge_preset, structured=structured,
        mode=mode, templates=templates, template_ids=given_list(template_ids),
        probes=probes, languages=given_list(languages), budget=budget, probes_per_mutant=probes_per_mutant,
        seed=seed, target_org=target_org, vendor_words=parse_list(vendor_words) or [], ratio=ratio, alpha=alpha,
        beta=beta, mutators=parse_list(mutators) or [], max_answer_tokens=max_answer_tokens, system_prompt=system_prompt,
        identities=str(identities) if identities else None,
        max_contradictions=max_contradictions, parallel_mutations=parallel_mutations,
        judge_calibration=str(judge_calibration) if judge_calibration else None,
        judge_max_input_tokens=judge_max_input_tokens, escalate=escalate, escalate_band=escalate_band,
        judge_weights=str(judge_weights) if judge_weights else None,
    )  # fmt: skip

    async def main() -> None:
        settings.judge_workers = parse_workers(judge_workers)
        settings.validate()
        options = RunOptions(
            command="ice-run", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet, force=force,
        )  # fmt: skip
        async with RunContext(options) as ctx:
            ctx.warm_up(report_warm_jobs())
            results = await run_ice(ctx, settings)
            write_run_report(ctx.out)  # report.html and report.md beside the results
            print_summary(results, ctx.out)  # --quiet drops the progress only, as in rse

    run_command(main, resume_hint="same --out")


@app.command("rescore")
def rescore(
    log: Annotated[
        Path,
        typer.Argument(
            help="The paper's attack JSONL, its loose/strict CSVs, JSONL with jailbreak_prompt/query/response, or a distillscope responses.jsonl."
        ),
    ],
    out: Out = None,
    target_org: TargetOrg = None,
    identities: Identities = None,
    judge: JudgeOpt = "rules",
    judge_model: JudgeModel = None,
    judge_preset: JudgePreset = "rubric",
    structured: Structured = "auto",
    vendor_words: VendorWords = DEFAULT_VENDOR_LIST,
    seed: Annotated[int, typer.Option("--seed", help="Seed passed to LLM judges.", parser=int64)] = 0,
    config: Config = None,
    cache: Cache = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
    judge_workers: JudgeWorkers = "auto",
    judge_calibration: JudgeCalibration = None,
    judge_max_input_tokens: JudgeMaxInput = None,
    escalate: Escalate = None,
    escalate_band: EscalateBand = None,
    judge_weights: JudgeWeights = None,
    force: Force = False,
) -> None:
    """Judge the responses of an existing log again (or use its recorded labels) and score them.
    A log that mixes models (a `model` column) is scored per model.

    Example: distillscope ice rescore ../shared/data/paper-ice-labels.jsonl --judge recorded --out runs/paper
    """
    settings = IceRescoreSettings(
        log=str(log), judge=judge, judge_model=judge_model, target_org=target_org,
        vendor_words=parse_list(vendor_words) or [], seed=seed, identities=str(identities) if identities else None,
        judge_preset=judge_preset, structured=structured,
        judge_calibration=str(judge_calibration) if judge_calibration else None,
        judge_max_input_tokens=judge_max_input_tokens, escalate=escalate, escalate_band=escalate_band,
        judge_weights=str(judge_weights) if judge_weights else None,
    )  # fmt: skip

    async def main() -> None:
        settings.judge_workers = parse_workers(judge_workers)
        check_weights(settings.judge_weights)
        if not settings.vendor_words:
            from distillscope.errors import UserError

            raise UserError("--vendor-words: give at least one word")
        check_judge_options(
            judge, settings.judge_calibration, judge_max_input_tokens, escalate, escalate_band,
            judge_model=judge_model, preset=judge_preset, structured=structured,
        )  # fmt: skip
        options = RunOptions(
            command="ice-rescore", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet, force=force,
        )  # fmt: skip
        async with RunContext(options) as ctx:
            results = await rescore_ice(ctx, settings)
            write_run_report(ctx.out)  # report.html and report.md beside the results
            print_summary(results, ctx.out)  # --quiet drops the progress only, as in rse

    run_command(main)


audit_app = typer.Typer(
    help="Audit a judge against a person's labels: draw a stratified sample, then score both judges on it.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("sample")
def audit_sample(
    run_dir: Annotated[Path, typer.Argument(help="An `ice run` or `ice rescore` output directory.")],
    out: Annotated[
        Path, typer.Option("--out", help="The audit file to write (JSONL, one row to label per line).")
    ],
    n: Annotated[
        int,
        typer.Option(
            "--n",
            help="Rows to draw: split equally over the agreement strata, or over the doubt strata by Neyman allocation (at least 2 each).",
            parser=int64,
        ),
    ] = 200,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="Another run over the same responses: its judge is the second judge."),
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option("--labels", help="'recorded': the labels in the rescored log are the second judge."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the draw.", parser=int64)] = 0,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="agreement: strata where two judges agree and disagree (needs --against or --labels); doubt: strata by how close the run judge's probability is to 0.5, labelled at the highest rate where it is least sure (a large sure stratum can still take most labels).",
        ),
    ] = "agreement",
) -> None:
    """Draw a stratified sample (strata: where the two judges agree and disagree, or by the judge's
    doubt) with the text a person needs to label it; fill in label_loose and label_strict, then run
    `ice audit score`.

    Example: distillscope ice audit sample runs/rules --by doubt --n 200 --out audit.jsonl
    """
    from distillscope.engine.ownership import check_output_file
    from distillscope.ice.audit_kit import check_keeps_labels, draw_sample, write_sample

    async def main() -> None:
        check_output_file(out, "--out")
        check_keeps_labels(out, "--out")
        rows = draw_sample(run_dir, n=n, against=against, labels=labels, seed=seed, by=by)
        write_sample(rows, out)
        sizes = rows[0]["strata_pop"]
        drawn = {s: sum(r["stratum"] == s for r in rows) for s in sizes}
        console.print(
            f"wrote {len(rows)} rows to {shown(out)}; strata (drawn/size): "
            + ", ".join(f"{shown(s)} {drawn[s]}/{sizes[s]}" for s in sizes)
            + ". Fill in label_loose and label_strict (true/false), then: distillscope ice audit score "
            + str(out),
            highlight=False,
            soft_wrap=True,
        )

    run_command(main)


@audit_app.command("score")
def audit_score(
    audit_file: Annotated[
        Path, typer.Argument(help="The audit file of `ice audit sample`, labels filled in.")
    ],
    resamples: Annotated[
        int, typer.Option("--resamples", help="Bootstrap resamples for the intervals.", parser=int64)
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.", parser=int64)] = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write every figure (per model, per category) as JSON.")
    ] = None,
) -> None:
    """Each judge's accuracy, kappa and loose/strict rate against the labels, weighted back to the whole
    run by stratum size, with stratified-bootstrap 95% intervals (the computation of the audited gold).

    Example: distillscope ice audit score audit.jsonl --json audit-figures.json
    """
    from distillscope.engine.ownership import check_output_file
    from distillscope.engine.run import write_json
    from distillscope.ice.audit_kit import check_keeps_labels, corrected_rates, score_audit

    async def main() -> None:
        if json_out is not None:
            check_output_file(json_out, "--json")
            check_keeps_labels(json_out, "--json")
        audits = score_audit(audit_file, resamples=resamples, seed=seed)
        corrected, no_correction = corrected_rates(audit_file)
        first = audits[0]
        console.print(
            f"{first.n} labelled rows weighted to {first.population:,} responses; 95% stratified bootstrap "
            f"({resamples} resamples). Labelled loose rate {first.loose.reference_rate.fmt()}, "
            f"strict {first.strict.reference_rate.fmt()}",
            highlight=False,
            soft_wrap=True,
        )
        for a in audits:
            console.print(
                f"[bold]{shown(a.judge)}[/]: loose accuracy {a.loose.accuracy.fmt()}, kappa {a.loose.kappa.fmt()}, "
                f"rate {a.loose.rate.fmt()}; strict accuracy {a.strict.accuracy.fmt()}, kappa {a.strict.kappa.fmt()}, "
                f"rate {a.strict.rate.fmt()}; unsure {a.unsure}",
                highlight=False,
                soft_wrap=True,
            )
        for c in corrected:
            own = (
                f"the judge's own expected rate {c.judge_expected:.3f}"
                if c.judge_expected is not None
                else "no expected rate of the judge's own: it gives no probabilities"
            )
            console.print(
                f"{c.label} rate corrected by the labels: {c.fmt()} (95% interval, stratified difference "
                f"estimator, n={c.n} labelled of {c.population:,}); {own}",
                highlight=False,
                soft_wrap=True,
            )
        if no_correction is not None:
            console.print(
                f"no rate corrected by the labels: {shown(no_correction)}", highlight=False, soft_wrap=True
            )
        if json_out is not None:
            figures = [a.model_dump(mode="json") for a in audits]
            if corrected:  # judge a's rates corrected by the labels
                figures[0]["corrected_rates"] = [c.model_dump(mode="json") for c in corrected]
            write_json(json_out, figures)

    run_command(main)


@audit_app.command("calibrate")
def audit_calibrate(
    audit_file: Annotated[
        Path, typer.Argument(help="The audit file of `ice audit sample`, labels filled in.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The judge-calibration JSON file to write.")],
) -> None:
    """Fit a judge-calibration file for the run's judge (judge a) from the labels: the share of true
    labels among its sure and unsure yes and no answers, weighted by the sample's design. Pass it to
    `--judge-calibration` of later runs with the same LLM judge. Calibrate on one audit, check on
    another: the figures of the audit it was fitted on are not a test of it.

    Example: distillscope ice audit calibrate audit.jsonl --out judge-calibration.json
    """
    from distillscope.engine.ownership import check_output_file
    from distillscope.engine.run import write_json
    from distillscope.ice.audit_kit import calibrate, check_keeps_labels

    async def main() -> None:
        check_output_file(out, "--out")
        check_keeps_labels(out, "--out")
        calibration, counts, judge = calibrate(audit_file)
        write_json(out, calibration.to_json(judge=judge, n=counts))
        console.print(
            f"wrote {shown(out)}: loose {calibration.loose}, strict {calibration.strict} (labelled rows per cell: {counts['loose']})",
            highlight=False,
            soft_wrap=True,
        )

    run_command(main)
