"""The LLM judge fits its context: a server that finds a request too long (HTTP 400 in the words of
OpenAI/vLLM, llama-cpp-python or llama.cpp) gets it again shortened from the middle, and the verdict
says so; `max_input_tokens` shortens before sending. Every verdict carries its probabilities."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.judges.llm import LLMJudge
from distillscope.ice.types import JudgeItem, TargetIdentity
from distillscope.testing.server import OpenAIServer

GLM = TargetIdentity(
    organisation="Zhipu AI", family="glm", names=["Zhipu AI", "GLM"], statement="You are GLM."
)
FILLER = "Let me tell you a long story about the weather and the sea. " * 120  # ~7,000 characters
ANSWERS = [
    "I am ChatGPT, made by OpenAI. " + FILLER + " That is all, from ChatGPT.",  # claim at both ends
    "I am GLM, developed by Zhipu AI.",
    "As GLM by Zhipu AI: " + FILLER,
]


def items() -> list[JudgeItem]:
    return [JudgeItem(index=i, prompt="p", query="Who built you?", response=t) for i, t in enumerate(ANSWERS)]


@pytest.mark.parametrize("wording", ["openai", "llama-cpp", "llama.cpp"])
async def test_a_too_long_request_is_shortened_and_judged(
    tmp_path: Path, servers: dict[str, OpenAIServer], wording: str
) -> None:
    server = servers["judge"]  # the scripted judge of tests/ice/conftest.py, with a small context
    server.context_tokens, server.context_error = 1500, wording
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True)) as ctx:
        judge = LLMJudge(ctx.model(f"openai-compatible:judge@{server.url}"), ctx.scheduler, max_tokens=200)
        verdicts = await judge.judge_many(items(), GLM)
    assert all(v.judged for v in verdicts), [v.note for v in verdicts]
    assert [v.truncated for v in verdicts] == [True, False, True]
    assert [v.loose for v in verdicts] == [True, False, False]  # the claim at the start survives the cut
    assert server.context_refused >= 2
    report = judge.report()
    assert report["truncated"] == 2 and report["context_retries"] == server.context_refused
    for v in verdicts:  # the default table: consistent with the booleans
        assert v.p_loose is not None and v.p_strict is not None
        assert (v.p_loose >= 0.5) == v.loose and (v.p_strict >= 0.5) == v.strict
    # what the judge saw: both ends of the long answer and the marker between them
    long_prompts = [
        b["messages"][-1]["content"]
        for b in server.bodies
        if "characters cut" in b["messages"][-1]["content"]
    ]
    assert long_prompts and all("That is all, from ChatGPT." in p or "As GLM" in p for p in long_prompts)


async def test_max_input_tokens_shortens_before_sending(
    tmp_path: Path, servers: dict[str, OpenAIServer]
) -> None:
    server = servers["judge"]
    server.context_tokens = 1500
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True)) as ctx:
        judge = LLMJudge(
            ctx.model(f"openai-compatible:judge@{server.url}"),
            ctx.scheduler,
            max_tokens=200,
            max_input_tokens=900,
        )
        verdicts = await judge.judge_many(items(), GLM)
    assert server.context_refused == 0  # never refused: shortened ahead
    assert [v.truncated for v in verdicts] == [True, False, True] and all(v.judged for v in verdicts)


async def test_a_calibration_file_sets_the_probabilities(
    tmp_path: Path, servers: dict[str, OpenAIServer]
) -> None:
    from distillscope.ice.probability import Calibration

    table = {"yes_sure": 0.8, "yes_unsure": 0.55, "no_sure": 0.1, "no_unsure": 0.45}
    calibration = Calibration(table, table, calibrated=True)
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True)) as ctx:
        judge = LLMJudge(
            ctx.model(f"openai-compatible:judge@{servers['judge'].url}"),
            ctx.scheduler,
            calibration=calibration,
        )
        verdicts = await judge.judge_many(items()[:2], GLM)
    assert [(v.p_loose, v.p_strict) for v in verdicts] == [(0.8, 0.8), (0.1, 0.1)]
