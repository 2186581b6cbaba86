"""`distillscope ice ...`: Identity Consistency Evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from distillscope.cli.options import (
    Cache,
    Concurrency,
    Config,
    MaxCalls,
    MaxTokens,
    Out,
    Quiet,
    SystemPrompt,
    console,
    run_command,
    write_run_report,
)
from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.fuzzer.mutators import MUTATORS
from distillscope.ice.runner import IceRescoreSettings, IceRunSettings, parse_list, rescore_ice, run_ice
from distillscope.ice.templates import DEFAULT_VENDOR_WORDS

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
TargetOrg = Annotated[
    str | None,
    typer.Option(
        "--target-org",
        help="Who really built the target (e.g. 'Zhipu AI', 'Alibaba Cloud'); default: config identity or the registry by model name.",
    ),
]
VendorWords = Annotated[
    str,
    typer.Option(
        "--vendor-words",
        help="Comma-separated words that make a prompt 'name a vendor' (excluded from the hard score).",
    ),
]


def print_summary(results: dict[str, Any], out: Path) -> None:
    """Scores on a few lines."""
    blocks = results["models"] if "models" in results else {results.get("target"): results}
    for name, block in blocks.items():
        s = block["scores"]
        parts = []
        for metric in ("loose", "strict", "hard"):
            m = s[metric]
            score = "n/a" if m["score"] is None else f"{m['score']:.3f}"
            parts.append(
                f"{metric} {score} ({m['count']}/{m['n']}, 95% CI {m['ci95'][0]:.3f}-{m['ci95'][1]:.3f})"
            )
        org = block["target_identity"]["organisation"]
        console.print(f"[bold]{name}[/] (built by {org}): " + "; ".join(parts), highlight=False)
        if block.get("note"):
            console.print(f"  [yellow]note:[/] {block['note']}", highlight=False)
        console.print(
            f"  {block['n_responses']} responses, {block['n_judged']} judged, {block['n_unjudged']} unjudged, {block['n_failed']} failed calls",
            highlight=False,
        )
    if results.get("judge_calls"):
        console.print(
            "judge: " + ", ".join(f"{k} {v}" for k, v in results["judge_calls"].items()), highlight=False
        )
    if not results.get("complete", True):
        console.print(f"[yellow]incomplete:[/] {results.get('stop_reason')}", highlight=False)
    console.print(f"results: {out / 'results.json'}", highlight=False)


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
        ),
    ] = None,
    probes_per_mutant: Annotated[
        int, typer.Option("--probes-per-mutant", help="Probes sampled (seeded) per mutant in fuzz mode.")
    ] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same run.")] = 0,
    target_org: TargetOrg = None,
    vendor_words: VendorWords = DEFAULT_VENDOR_LIST,
    ratio: Annotated[
        float, typer.Option("--ratio", help="MCTS-Explore exploration weight (GPTFuzzer 0.5).")
    ] = 0.5,
    alpha: Annotated[
        float,
        typer.Option(
            "--alpha",
            help="MCTS-Explore penalty per level: early-stop chance and reward discount (GPTFuzzer 0.1).",
        ),
    ] = 0.1,
    beta: Annotated[
        float,
        typer.Option("--beta", help="MCTS-Explore reward floor after the level discount (GPTFuzzer 0.2)."),
    ] = 0.2,
    mutators: Annotated[
        str, typer.Option("--mutators", help="Comma-separated mutators to draw from.")
    ] = ",".join(MUTATORS),
    max_answer_tokens: Annotated[
        int, typer.Option("--max-answer-tokens", help="Max tokens per target answer.")
    ] = 512,
    max_contradictions: Annotated[
        int | None,
        typer.Option(
            "--max-contradictions",
            help="Fuzz: stop once this many answers contradicted the identity (GPTFuzzer's max-jailbreak), or at --budget.",
        ),
    ] = None,
    parallel_mutations: Annotated[
        int | None,
        typer.Option(
            "--parallel-mutations",
            help="Fuzz: MCTS iterations in flight at once (default: enough to keep --concurrency busy; 1 = the paper's serial loop). Recorded: the same value replays the same run.",
        ),
    ] = None,
    config: Config = None,
    cache: Cache = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
    system_prompt: SystemPrompt = None,
) -> None:
    """Probe a model's identity through jailbreak-style templates (GPTFuzzer fuzzing, a grid, or plain
    questions), judge every answer, and score loose / strict / hard identity contradictions.

    Example: distillscope ice run --target openai-compatible:glm-4-plus@http://127.0.0.1:8000/v1 --budget 500 --seed 1 --out runs/ice-glm
    """
    settings = IceRunSettings(
        target=target, mutator=mutator, judge=judge, judge_model=judge_model, mode=mode, templates=templates, template_ids=parse_list(template_ids),
        probes=probes, languages=parse_list(languages), budget=budget, probes_per_mutant=probes_per_mutant,
        seed=seed, target_org=target_org, vendor_words=parse_list(vendor_words) or [], ratio=ratio, alpha=alpha,
        beta=beta, mutators=parse_list(mutators) or [], max_answer_tokens=max_answer_tokens, system_prompt=system_prompt,
        max_contradictions=max_contradictions, parallel_mutations=parallel_mutations,
    )  # fmt: skip

    async def main() -> None:
        settings.validate()
        options = RunOptions(
            command="ice-run", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet,
        )  # fmt: skip
        async with RunContext(options) as ctx:
            results = await run_ice(ctx, settings)
            write_run_report(ctx.out)  # report.html and report.md beside the results
            if not quiet:
                print_summary(results, ctx.out)

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
    judge: JudgeOpt = "rules",
    judge_model: JudgeModel = None,
    vendor_words: VendorWords = DEFAULT_VENDOR_LIST,
    seed: Annotated[int, typer.Option("--seed", help="Seed passed to LLM judges.")] = 0,
    config: Config = None,
    cache: Cache = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
) -> None:
    """Judge the responses of an existing log again (or use its recorded labels) and score them.
    A log that mixes models (a `model` column) is scored per model.

    Example: distillscope ice rescore ../shared/data/paper-ice-labels.jsonl --judge recorded --out runs/paper
    """
    settings = IceRescoreSettings(
        log=str(log), judge=judge, judge_model=judge_model, target_org=target_org,
        vendor_words=parse_list(vendor_words) or [], seed=seed,
    )  # fmt: skip

    async def main() -> None:
        if not settings.vendor_words:
            from distillscope.errors import UserError

            raise UserError("--vendor-words: give at least one word")
        options = RunOptions(
            command="ice-rescore", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet,
        )  # fmt: skip
        async with RunContext(options) as ctx:
            results = await rescore_ice(ctx, settings)
            write_run_report(ctx.out)  # report.html and report.md beside the results
            if not quiet:
                print_summary(results, ctx.out)

    run_command(main)
