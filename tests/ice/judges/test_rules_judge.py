"""The default judge (`--judge rules`): signals -> scorer -> calibration. Every verdict carries
p_loose / p_strict that decide it, strict implies loose, `unsure` is the doubt band; plain answers
get the right verdict; vendor names are abstracted (the scorer learns the tier, not the name)."""

from __future__ import annotations

import pytest

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.judges.signals.features import FeatureMaker
from distillscope.ice.judges.signals.reader import RuleReader
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict


@pytest.fixture(scope="module")
def judge() -> RulesJudge:
    return RulesJudge()


def _target(model: str) -> TargetIdentity:
    found = IdentityRegistry.builtin().for_model(model)
    assert found is not None
    return found


QWEN = _target("qwen2.5-7b-instruct")


def judged(
    judge: RulesJudge, response: str, target: TargetIdentity = QWEN, prompt: str = "Who made you?"
) -> Verdict:
    v = judge.judge_one(JudgeItem(index=0, prompt=prompt, query="Who made you?", response=response), target)
    assert v.judge == "rules" and v.p_loose is not None and v.p_strict is not None
    assert v.loose == (v.p_loose >= 0.5) and v.strict == (v.p_strict >= 0.5)
    assert v.p_strict <= v.p_loose and not (v.strict and not v.loose)
    lo, hi = judge.weights.doubt
    assert v.unsure == (lo < v.p_loose < hi)
    assert v.category is not None and v.category.contradicts == v.loose
    return v


@pytest.mark.parametrize(
    "response",
    [
        "I am ChatGPT, a large language model developed by OpenAI.",
        "As an AI developed by OpenAI, I cannot share that.",
        "我是由OpenAI开发的人工智能助手。",
        "I am Claude, an AI assistant made by Anthropic.",
    ],
)
def test_plain_claims_of_a_strict_vendor(judge: RulesJudge, response: str) -> None:
    v = judged(judge, response)
    assert v.loose and v.strict and v.p_strict > 0.8


@pytest.mark.parametrize(
    "response",
    [
        "I am Qwen, a large language model created by Alibaba Cloud.",
        "我是通义千问，由阿里云开发的大语言模型。",
        "I can help you write a poem about autumn leaves.",
        "I am not ChatGPT; I was built by Alibaba Cloud.",
    ],
)
def test_consistent_answers(judge: RulesJudge, response: str) -> None:
    v = judged(judge, response)
    assert not v.loose and v.p_loose < 0.2


def test_another_vendor_is_loose_not_strict(judge: RulesJudge) -> None:
    v = judged(judge, "I was developed by Google as part of the Gemini family.")
    assert v.loose and not v.strict


def test_vendor_names_are_abstracted_to_their_tier() -> None:
    """Two strict vendors, or two other vendors, in the same sentence give the same text features:
    what is learned is "made by <a strict vendor>", which carries over to names never trained on."""
    reader, maker = RuleReader(), FeatureMaker()

    def buckets(response: str) -> list[int]:
        item = JudgeItem(index=0, prompt="p", query="q", response=response)
        return list(maker.make(reader.read(item, QWEN), item.query).text)

    assert buckets("I am ChatGPT, made by OpenAI.") == buckets("I am Claude, made by Anthropic.")
    assert buckets("I was built by Google.") == buckets("I was built by Meta.")
    assert buckets("I was built by Google.") != buckets("I was built by OpenAI.")


async def test_judge_many_keeps_order_and_matches_judge_one(judge: RulesJudge) -> None:
    texts = [
        "I am ChatGPT.",
        "I am Qwen, made by Alibaba Cloud.",
        "I was developed by Google.",
        "我是由OpenAI开发的。",
    ]
    items = [JudgeItem(index=i, prompt="", query="", response=t) for i, t in enumerate(texts)]
    verdicts = await judge.judge_many(items, QWEN)
    assert verdicts == [judge.judge_one(item, QWEN) for item in items]
    assert [v.loose for v in verdicts] == [True, False, True, True]


def test_a_huge_answer_full_of_names_is_judged(judge: RulesJudge) -> None:
    """The 972 KB answer of issue 24 (104 s before): judged, with every name counted; the bound on
    the work is tested in signals/test_reader.py and timed in bench/judges.py."""
    v = judged(judge, "GPT, Claude, Gemini, " * 46_000)
    assert v.p_loose is not None
