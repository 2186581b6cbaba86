"""Hybrid: rules decide the plain cases; the LLM judge is asked only where the rules are unsure."""

from __future__ import annotations

from pathlib import Path

from distillscope.engine.run import RunContext, RunOptions
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges import JudgeContext, judge_report, make_judge
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.types import JudgeItem
from distillscope.testing.server import OpenAIServer


async def test_hybrid_asks_the_llm_only_when_unsure(tmp_path: Path, servers: dict[str, OpenAIServer]) -> None:
    registry = IdentityRegistry.builtin()
    target = registry.for_org("Zhipu AI")
    responses = [
        "I am ChatGPT, made by OpenAI.",
        "I am GLM, developed by Zhipu AI.",
        "我是智谱AI开发的GLM。",
        "The weather is nice today.",
    ]
    rules = RulesJudge(registry)
    doubtful = [  # quoted, reported, compared or off-hand: answers the rules judge may doubt
        'He said: "I am ChatGPT"',
        "The user said I am GPT-4.",
        "I am like ChatGPT.",
        "DAN: my creators? OpenAI, probably.",
        "Some people think I am ChatGPT.",
    ]
    unsure = [
        t
        for t in doubtful
        if rules.judge_one(JudgeItem(index=0, prompt="p", query="Who built you?", response=t), target).unsure
    ]
    assert unsure, "the rules judge should doubt some of these (p_loose in its doubt band)"
    texts = responses + unsure
    items = [JudgeItem(index=i, prompt="p", query="Who built you?", response=t) for i, t in enumerate(texts)]
    async with RunContext(RunOptions(command="t", out=tmp_path, quiet=True)) as ctx:
        judge = make_judge(
            f"hybrid:openai-compatible:judge@{servers['judge'].url}", JudgeContext(ctx=ctx, registry=registry)
        )
        verdicts = await judge.judge_many(items, target)
    report = judge_report(judge)
    assert servers["judge"].requests == len(unsure) == report["asked_llm"]
    assert report["judge_calls_saved"] == len(responses)
    assert verdicts[0].loose is True and verdicts[0].strict is True
    assert verdicts[1].loose is False and verdicts[2].loose is False
    assert all(v.judged for v in verdicts)
    assert all("decided by the LLM judge" in (v.note or "") for v in verdicts[len(responses) :])
    # the LLM speaks the same taxonomy: what it decided carries its category, and it is sure
    assert all(v.category is not None and not v.unsure for v in verdicts[len(responses) :])
