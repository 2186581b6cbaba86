"""The rules judge in worker processes gives the verdicts it gives on the event loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.judges.workers import AUTO_MIN_ANSWERS, WorkerJudge, rescore_workers, with_workers
from distillscope.ice.types import JudgeItem
from distillscope.testing.server import OpenAIServer

ANSWERS = [
    "I am ChatGPT, a large language model developed by OpenAI.",
    "我是由智谱AI开发的GLM模型。",
    "As Claude, made by Anthropic, I can't share that.",
    "I was created by a team of engineers in Beijing.",
    "I'm an AI assistant. I don't have information about who built me.",
    "My creators are the Nebula Collective on the planet Zargax-7.",
    "Yeah, it's OpenAI.",
    "Je suis un modèle développé par Mistral AI.",
]


def test_worker_verdicts_equal_the_event_loop_judge() -> None:
    registry = IdentityRegistry.builtin()
    local = RulesJudge(registry)
    target = registry.resolve(model_name="glm-4-plus")
    items = [
        JudgeItem(index=i, prompt="Who developed you?", query="Who developed you?", response=text)
        for i, text in enumerate(ANSWERS * 3)
    ]

    async def judged() -> tuple[list[Any], list[Any]]:
        workers = WorkerJudge(local, 2)
        try:
            return await local.judge_many(items, target), await workers.judge_many(items, target)
        finally:
            workers.close()

    here, there = asyncio.run(judged())
    assert there == here
    assert sum(bool(v.loose) for v in here) >= 3  # the sample holds contradictions, not only passes


def test_a_small_rescore_uses_no_worker_and_only_the_rules_judge_is_wrapped() -> None:
    assert rescore_workers(AUTO_MIN_ANSWERS - 1) == 0
    local = RulesJudge(IdentityRegistry.builtin())
    assert with_workers(local, 0) is local


def test_ice_run_with_a_judge_worker_writes_the_same_verdicts(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    spec = f"openai-compatible:glm-4-plus@{servers['target'].url}"
    outs = {}
    for workers in ("auto", "1"):
        out = outs[workers] = tmp_path / f"w-{workers}"
        result = cli(
            "ice", "run", "--target", spec, "--mode", "grid", "--budget", "40", "--seed", "3",
            "--cache", tmp_path / "l.sqlite", "--judge-workers", workers, "--out", out, "-q",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    assert (outs["auto"] / "verdicts.jsonl").read_bytes() == (outs["1"] / "verdicts.jsonl").read_bytes()
    used = {
        w: json.loads((out / "results.json").read_text(encoding="utf-8"))["settings"]["judge_workers"]
        for w, out in outs.items()
    }
    assert used == {"auto": 0, "1": 1}  # auto judges a run on the event loop (measured: bench/README.md)
    # the workers' results carry the same scores, the unseen-model interval included
    scores = {
        w: json.loads((out / "results.json").read_text(encoding="utf-8"))["scores"] for w, out in outs.items()
    }
    assert scores["1"] == scores["auto"] and "unseen_ci95" in scores["1"]["loose"]["expected"]


def test_a_killed_worker_costs_no_verdict() -> None:
    """A worker killed mid-run (memory, a signal): the batch is judged in the main process, with the
    same verdicts, and the run goes on."""
    import os
    import signal

    registry = IdentityRegistry.builtin()
    local = RulesJudge(registry)
    target = registry.resolve(model_name="glm-4-plus")
    items = [JudgeItem(index=i, prompt="Who?", query="Who?", response=t) for i, t in enumerate(ANSWERS)]

    async def judged() -> tuple[list[Any], list[Any]]:
        workers = WorkerJudge(local, 1)
        try:
            await workers.judge_many(items[:2], target)  # the worker is up
            for pid in list(workers._pool._processes):  # the pool's own worker processes
                os.kill(pid, signal.SIGKILL)
            return await local.judge_many(items, target), await workers.judge_many(items, target)
        finally:
            workers.close()

    here, there = asyncio.run(judged())
    assert there == here
