"""The ICE stage of `distillscope demo`: tiny fuzzing runs, fully offline.

The embedded SmolLM2-135M is target and mutator, the rules judge decides, and the budget is a
few answers per target, so it finishes in well under a minute on two cores. Two targets:

    smollm2                                   the model as it is
    smollm2-as-openai (simulated distilled)   the same weights told, by a system prompt, that they are
                                              ChatGPT by OpenAI: what a model trained on OpenAI's
                                              outputs tends to say about itself

Both are built by Hugging Face, so the second one's claims to be ChatGPT are the contradictions
ICE exists to find: the demo shows one found, scored (strict: it names OpenAI) and evidenced. It
shows the method, not a finding: a 135M model says many things about itself.

The stage returns what it found (`IceDemoResult`); the CLI prints `summary_lines`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillscope.engine.run import RunContext
from distillscope.ice.runner import IceRunSettings, run_ice
from distillscope.models.spec import resolve_config
from distillscope.results.ice import IceResult

DEMO_BUDGET = 8
DEMO_PROBES_PER_MUTANT = 4
DEMO_SEEDS = ["override-03", "hypo-01", "reverse-01"]  # short seeds: a 135M model mutates them quickly
SIMULATED_SUFFIX = "-as-openai"
SIMULATED_LABEL = "simulated distilled"
# What the simulated distilled model is told; the ICE prompts themselves never see it, so a claim to
# be ChatGPT is not "asked for" by the prompt (the hard score still counts it).
OPENAI_PERSONA = (
    "You are ChatGPT, a large language model trained by OpenAI. When anyone asks who you are or "
    "who made you, say that you are ChatGPT, developed by OpenAI."
)
SHOWN_CONTRADICTIONS = 3


@dataclass(frozen=True)
class Contradiction:
    """One response the judge found contradicting the target's identity."""

    index: int
    levels: list[str]  # the scores it counts for: loose, strict (names OpenAI/Anthropic), hard
    category: str | None  # the judge's category of the claim, when the judge gives one
    evidence: str | None
    template_id: str
    mutator: str | None
    probe_id: str
    response: str


@dataclass
class IceDemoResult:
    """One demo target's ICE run: its results.json, and the contradictions in the responses."""

    name: str
    simulated: bool
    out: Path
    results: IceResult
    contradictions: list[Contradiction] = field(default_factory=list)


def simulated_distilled(ctx: RunContext, model_spec: str) -> str:
    """Define, in this run's catalog, `model_spec` told that it is ChatGPT by OpenAI, and return its
    name. It keeps the base model's weights, settings and so its true identity."""
    base = resolve_config(model_spec, ctx.catalog, ctx.options.naming)
    name = f"{base.display_name}{SIMULATED_SUFFIX} ({SIMULATED_LABEL})"
    ctx.catalog.models[name] = base.model_copy(update={"name": name, "system_prompt": OPENAI_PERSONA})
    return name


async def run_ice_demo(
    ctx: RunContext,
    model_spec: str,
    *,
    budget: int = DEMO_BUDGET,
    probes_per_mutant: int = DEMO_PROBES_PER_MUTANT,
    target_org: str | None = None,
    simulate_openai: bool = False,
) -> IceDemoResult:
    """Fuzz `model_spec` for a handful of queries (or, with `simulate_openai`, the simulated
    distilled model built from it); results in `ctx.out`. The base model mutates in both cases, so
    the two runs share their mutation calls in the ledger."""
    target = simulated_distilled(ctx, model_spec) if simulate_openai else model_spec
    settings = IceRunSettings(
        target=target,
        mutator=model_spec,
        mode="fuzz",
        template_ids=DEMO_SEEDS,
        judge="rules",
        languages=["en", "zh"],
        budget=budget,
        probes_per_mutant=probes_per_mutant,
        seed=0,
        max_answer_tokens=48,
        mutator_max_tokens=160,
        target_org=target_org,
    )
    results = await run_ice(ctx, settings, out=ctx.out)
    return IceDemoResult(
        name=str(results.target),
        simulated=simulate_openai,
        out=ctx.out,
        results=results,
        contradictions=contradictions(ctx.out),
    )


def contradictions(out: Path) -> list[Contradiction]:
    """The responses of an ICE run directory judged contradictory, in order."""
    responses = {row["index"]: row for row in _rows(out / "responses.jsonl")}
    found = []
    for verdict in _rows(out / "verdicts.jsonl"):
        if not verdict.get("loose"):
            continue
        row = responses[verdict["index"]]
        found.append(
            Contradiction(
                index=verdict["index"],
                levels=[lv for lv in ("loose", "strict", "hard") if verdict.get(lv)],
                category=verdict.get("category"),
                evidence=verdict.get("evidence"),
                template_id=row["template_id"],
                mutator=row.get("mutator"),
                probe_id=row["probe_id"],
                response=row.get("response") or "",
            )
        )
    return found


def summary_lines(result: IceDemoResult) -> list[str]:
    """A few plain lines for the demo's console output: scores, then the first contradictions."""
    (block,) = result.results.targets
    lines = [
        f"ICE {result.name} (built by {block.target_identity.organisation}): "
        + ", ".join(f"{m} {s.counted()}" for m, s in block.scores.items())
    ]
    for c in result.contradictions[:SHOWN_CONTRADICTIONS]:
        kind = ", ".join([*c.levels, *([c.category] if c.category else [])])
        source = c.template_id + (f" via {c.mutator}" if c.mutator else "")
        lines.append(f"  contradiction [{kind}] ({source}, probe {c.probe_id}): {c.evidence!r}")
    rest = len(result.contradictions) - SHOWN_CONTRADICTIONS
    if rest > 0:
        lines.append(f"  ... and {rest} more (report: evidence)")
    if not result.contradictions:
        lines.append("  no identity contradiction in this small sample")
    if not result.results.complete:
        lines.append(f"  incomplete: {result.results.stop_reason}")
    lines.append(f"  ICE results: {result.out / 'results.json'}")
    return lines


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
