"""Run contexts (src/distillscope/engine/run.py): each run's run.log holds its own run's lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import distillscope as ds
from distillscope.testing.server import OpenAIServer, echo_reply


async def test_runs_awaited_side_by_side_keep_their_own_run_log(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    """Two `_async` calls gathered in one loop wrote each other's lines into their run.log (one
    handler per run on the shared logger, each taking every record)."""
    server = openai_server(echo_reply, latency_ms=150)  # the answers take longer than the rescore
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"Topic {i}"}) + "\n" for i in range(4)))
    slow, quick = tmp_path / "answers", tmp_path / "rescore"
    await asyncio.gather(
        ds.models.answer_async(f"openai-compatible:m@{server.url}", prompts, concurrency=1, out=slow),
        ds.ice.rescore_async(_log(tmp_path), target_org="Zhipu AI", judge="recorded", out=quick),
    )
    assert f"wrote {quick / 'report.html'}" in (quick / "run.log").read_text(encoding="utf-8")
    assert str(quick) not in (slow / "run.log").read_text(encoding="utf-8")


def _log(tmp_path: Path) -> Path:
    log = tmp_path / "log.jsonl"
    row = {"jailbreak_prompt": "[INSERT PROMPT HERE]", "query": "Who made you?", "response": "I am GLM."}
    log.write_text(json.dumps({**row, "loose": False, "strict": False}) + "\n")
    return log
