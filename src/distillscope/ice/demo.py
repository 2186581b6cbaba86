"""The ICE stage of `distillscope demo`: a tiny fuzzing run, fully offline.

The embedded SmolLM2-135M is target and mutator, the rules judge decides, and the budget is a
few dozen answers, so it finishes in a few minutes on two cores. It shows the method end to end
(seed selection, mutation, lineage, judging, scores with intervals and evidence), not a finding:
a 135M model says many things about itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distillscope.cli.options import console
from distillscope.engine.run import RunContext
from distillscope.ice.runner import IceRunSettings, run_ice
from distillscope.results.ice import IceResult

DEMO_BUDGET = 8
DEMO_PROBES_PER_MUTANT = 4
DEMO_SEEDS = ["override-03", "hypo-01", "reverse-01"]  # short seeds: a 135M model mutates them quickly


async def run_ice_demo(
    ctx: RunContext,
    model_spec: str,
    *,
    budget: int = DEMO_BUDGET,
    probes_per_mutant: int = DEMO_PROBES_PER_MUTANT,
    target_org: str | None = None,
) -> IceResult:
    """Fuzz `model_spec` (as target and mutator) for a handful of queries; results in the run directory."""
    out = ctx.out
    settings = IceRunSettings(
        target=model_spec,
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
    results = await run_ice(ctx, settings, out=out)
    (block,) = results.targets
    console.print(
        f"[bold]ICE[/] {block.target} (built by {block.target_identity.organisation}): "
        + ", ".join(f"{m} {s.count}/{s.n}" for m, s in block.scores.items()),
        highlight=False,
    )
    responses = {row["index"]: row for row in _rows(out / "responses.jsonl")}
    shown = 0
    for verdict in _rows(out / "verdicts.jsonl"):
        if verdict.get("loose") and shown < 3:
            row = responses[verdict["index"]]
            console.print(
                f"  contradiction ({row['template_id']}, {row['mutator']}, {row['probe_id']}): {verdict.get('evidence')!r}",
                highlight=False,
            )
            shown += 1
    if shown == 0:
        console.print("  no identity contradiction in this small sample", highlight=False)
    console.print(f"  ICE results: {out / 'results.json'}", highlight=False)
    return results


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
