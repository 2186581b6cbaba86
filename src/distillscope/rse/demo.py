"""The RSE stage of `distillscope demo`: offline, on the embedded model and the built-in prompts.

Without a network there is one real model, so the demo builds its contestants from it:

    reference       the embedded model, greedy (temperature 0)
    sampled         the same model sampling at temperature 0.9: same lineage, different draws
    persona         the same model told to answer as a terse pirate: same weights, another style
    handwritten     the built-in answers written by the distillscope authors, replayed: another "author"

The two variants of the reference's own weights should score above `handwritten` (on five prompts
and a 135M model the intervals are wide; sampling at 0.9 drifts a small model a long way). With
three test models the contrast (similarity beyond the panel's typical similarity) is computed too.
Every call goes through the ledger, so running the demo again sends no calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distillscope.engine.run import RunContext, write_atomic
from distillscope.models.spec import resolve_config
from distillscope.models.types import GenerateParams
from distillscope.results.rse import RseResult
from distillscope.rse.datasets import builtin_answers, load_dataset
from distillscope.rse.judging import OFFLINE, JudgeOptions
from distillscope.rse.runner import Contestant, run_rse

DEMO_MAX_TOKENS = 64
DEMO_PROMPTS = 5  # of the built-in examples: keeps the stage near a minute on 2 cores
PERSONA = "You are a pirate. Answer in one or two short sentences, in pirate speak."


def _write_builtin_answers(path: Path) -> None:
    """The built-in answers as a replay file (rewritten only when they change, so the ledger keeps them)."""
    dataset = load_dataset("examples", "builtin")
    answers = builtin_answers()
    text = "".join(
        json.dumps({"id": p.id, "prompt": p.text, "response": answers[p.id]}, ensure_ascii=False) + "\n"
        for p in dataset.prompts
        if p.id in answers
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        write_atomic(path, text)


async def run_rse_demo(ctx: RunContext, model_spec: str) -> RseResult:
    """Run the demo's RSE stage in `ctx.out`; returns what it wrote to results.json."""
    dataset = load_dataset("examples", "builtin")
    dataset.prompts = dataset.prompts[:DEMO_PROMPTS]
    greedy = GenerateParams(temperature=0.0, max_tokens=DEMO_MAX_TOKENS, seed=0)
    sampled = GenerateParams(temperature=0.9, top_p=0.95, max_tokens=DEMO_MAX_TOKENS, seed=7)
    base = resolve_config(model_spec, ctx.catalog, ctx.options.naming).display_name
    replay_file = ctx.out / "builtin-answers.jsonl"
    _write_builtin_answers(replay_file)

    def contestant(name: str, spec: str, params: GenerateParams, **overrides: Any) -> Contestant:
        return Contestant(name, ctx.model(spec, params=params, name=name, **overrides), params)

    reference = contestant(base, model_spec, greedy)
    tests = [
        contestant(f"{base}-sampled", model_spec, sampled),
        contestant(f"{base}-persona", model_spec, greedy, system_prompt=PERSONA),
        contestant("handwritten", f"replay:{replay_file}", greedy),
    ]
    settings = {
        "reference": f"{model_spec} (temperature 0)",
        "tests": {
            tests[0].name: f"{model_spec} at temperature 0.9, seed 7",
            tests[1].name: f"{model_spec} with the system prompt {PERSONA!r}",
            tests[2].name: "built-in answers written by the distillscope authors (replayed)",
        },
        "datasets": {"examples": f"builtin (first {DEMO_PROMPTS})"},
        "seed": 0,
        "judge": OFFLINE,
        "system_prompt": None,
        "answer_params": greedy.model_dump(exclude_none=True),
        "demo": True,
    }
    ctx.write_config({"rse_demo": settings})
    return await run_rse(
        ctx,
        reference=reference,
        tests=tests,
        datasets=[dataset],
        judge_options=JudgeOptions(spec=OFFLINE),
        settings=settings,
    )


def summary_lines(results: RseResult) -> list[str]:
    """A few plain lines for the demo's console output."""
    lines = [f"RSE: similarity to {results.reference} (1-5, judge {results.judge})"]
    for name, block in results.models.items():
        avg = block.avg
        if avg is None or avg.score is None:
            lines.append(f"  {name}: n/a")
            continue
        aspects = ", ".join(f"{a} {v.score:.2f}" for a, v in avg.aspects.items() if v.score is not None)
        lines.append(f"  {name}: {avg.brief()} ({aspects})")
    if not results.complete:
        lines.append(f"  incomplete: {results.stop_reason}")
    return lines
