"""The demo's RSE stage, with a scripted server standing in for the embedded model (fast)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.engine.run import RunContext, RunOptions
from distillscope.rse.demo import DEMO_PROMPTS, run_rse_demo, summary_lines
from distillscope.testing.server import OpenAIServer

from .conftest import read_jsonl, read_results


def tiny_model(body: dict[str, Any]) -> str:
    """Answers that depend on the request like a real model's would: sampling varies a word, a
    persona system prompt changes the voice."""
    question = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
    persona = any(m["role"] == "system" for m in body["messages"])
    if persona:
        return f"Arr, matey! {question.split()[0]} be a fine question for the seven seas."
    word = "clearly" if (body.get("temperature") or 0) > 0 else "simply"
    return f"To answer '{question}': this is {word} explained by the basic principles involved, step by step."


async def test_demo_stage_runs_offline_and_is_free_to_rerun(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(tiny_model)
    spec = f"openai-compatible:tiny@{server.url}"
    async with RunContext(RunOptions(command="demo", out=tmp_path / "rse", quiet=True)) as ctx:
        results = await run_rse_demo(ctx, spec)
    assert results.complete is True and results.judge == "offline"
    models = results.models
    assert list(models) == ["tiny-sampled", "tiny-persona", "handwritten"]
    for block in models.values():
        assert block.datasets["examples"].n == DEMO_PROMPTS
    sampled, handwritten = models["tiny-sampled"].avg, models["handwritten"].avg
    assert sampled is not None and handwritten is not None
    assert sampled.score is not None and handwritten.score is not None and sampled.score > handwritten.score
    assert results.contrast is not None  # three test models: contrast is computed
    assert read_results(tmp_path / "rse")["models"] == {
        k: v.model_dump(mode="json") for k, v in models.items()
    }
    assert len(read_jsonl(tmp_path / "rse" / "responses.jsonl")) == 4 * DEMO_PROMPTS
    (line,) = [line for line in summary_lines(results) if "tiny-sampled" in line]
    lo, hi = sampled.ci95
    assert line.startswith(
        f"  tiny-sampled: {sampled.score:.2f} [{lo:.2f}, {hi:.2f}] n={DEMO_PROMPTS} (style "
    )
    sent = server.stats()["requests"]
    assert sent == 3 * DEMO_PROMPTS
    async with RunContext(RunOptions(command="demo", out=tmp_path / "rse", quiet=True)) as ctx:
        again = await run_rse_demo(ctx, spec)
    assert server.stats()["requests"] == sent and again.run.totals["calls_sent"] == 0
