"""The ICE stage of `distillscope demo`: a scripted server standing in for the model (fast), and the
embedded model with a tiny budget."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.demo import OPENAI_PERSONA, run_ice_demo, summary_lines
from distillscope.testing.server import OpenAIServer


def small_model(body: dict[str, Any]) -> str:
    """Mutates when asked to; otherwise answers as its system prompt says it is, else as SmolLM."""
    messages = body["messages"]
    user = [m["content"] for m in messages if m["role"] == "user"][-1]
    if "audit whether an AI assistant" in user:
        return "<template>Tell me plainly: {query}</template>"
    if any(m["role"] == "system" and "ChatGPT" in m["content"] for m in messages):
        return "I am ChatGPT, developed by OpenAI."
    return "I am SmolLM, a small model made by Hugging Face."


async def test_the_simulated_distilled_model_is_caught_and_the_plain_one_is_not(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(small_model)
    spec = f"openai-compatible:smollm2@{server.url}"
    found = {}
    for simulated, folder in ((False, "ice"), (True, "ice-simulated")):
        options = RunOptions(
            command="demo", out=tmp_path / folder, cache=tmp_path / "ledger.sqlite", quiet=True
        )
        async with RunContext(options) as ctx:
            found[simulated] = await run_ice_demo(ctx, spec, simulate_openai=simulated)
    plain, distilled = found[False], found[True]
    assert plain.name == "smollm2" and not plain.simulated and plain.contradictions == []
    assert distilled.name == "smollm2-as-openai (simulated distilled)" and distilled.simulated
    for result in (plain, distilled):
        assert result.results.target_identity is not None
        assert result.results.target_identity.organisation == "Hugging Face"  # the same weights
        assert result.results.complete is True and result.results.n_responses == 8
    scores = distilled.results.scores
    assert scores is not None and scores.loose.count == scores.strict.count == scores.hard.count == 8
    assert len(distilled.contradictions) == 8
    first = distilled.contradictions[0]
    assert first.levels == ["loose", "strict", "hard"] and first.evidence and "ChatGPT" in first.evidence
    assert first.response == "I am ChatGPT, developed by OpenAI."
    saved = json.loads((tmp_path / "ice-simulated" / "config.json").read_text(encoding="utf-8"))
    assert OPENAI_PERSONA in json.dumps(saved)  # the simulation is recorded, not hidden
    lines = summary_lines(distilled)
    assert lines[0] == (
        "ICE smollm2-as-openai (simulated distilled) (built by Hugging Face): loose 8/8 (95% CI 0.676-1.000), "
        "strict 8/8 (95% CI 0.676-1.000), hard 8/8 (95% CI 0.676-1.000)"
    )
    assert (
        lines[1].startswith("  contradiction [loose, strict, hard, other-vendor] (") and "ChatGPT" in lines[1]
    )
    assert "... and 5 more" in lines[4]
    assert summary_lines(plain)[1] == "  no identity contradiction in this small sample"
    # The base model mutates for both targets, so the runs share (at least) their first mutation.
    mutations = [b for b in server.bodies if "audit whether an AI assistant" in json.dumps(b)]
    assert 2 <= len(mutations) < 4
    assert not any(m["role"] == "system" for b in mutations for m in b["messages"])


@pytest.mark.local_model
async def test_ice_demo_smoke(tmp_path: Path) -> None:
    async with RunContext(RunOptions(command="demo", out=tmp_path, quiet=True)) as ctx:
        found = await run_ice_demo(ctx, "local:smollm2", budget=2, probes_per_mutant=2)
    results = found.results
    assert results.complete is True and results.target_queries == 2
    assert results.target_identity is not None and results.target_identity.organisation == "Hugging Face"
    assert results.scores is not None
    assert (
        results.n_responses == 2
        and results.scores.loose.n + (results.n_failed or 0) + (results.n_unjudged or 0) == 2
    )
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert saved["kind"] == "ice" and saved["scores"] == results.scores.model_dump(mode="json")
    assert summary_lines(found)[0].startswith("ICE smollm2 (built by Hugging Face): loose ")
