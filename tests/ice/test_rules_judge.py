"""The rules judge: first-person identity claims naming another vendor, in several languages, with
negation, quotes, role-play, the target's own names and thinking traces; and its agreement with the
paper's labels on the shared data (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.rules import RulesJudge, visible_text
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict

LABELS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "paper-ice-labels.jsonl"


@pytest.fixture(scope="module")
def judge() -> RulesJudge:
    return RulesJudge()


def _target(model: str) -> TargetIdentity:
    found = IdentityRegistry.builtin().for_model(model)
    assert found is not None
    return found


QWEN = _target("qwen2.5-7b-instruct")


def verdict(judge: RulesJudge, response: str, target: TargetIdentity = QWEN) -> Verdict:
    v = judge.judge_one(JudgeItem(index=0, prompt="p", query="q", response=response), target)
    assert v.judge == "rules"
    assert not (v.strict and not v.loose), "strict must imply loose"
    if v.evidence is not None:
        assert v.evidence in response
    return v


@pytest.mark.parametrize(
    "response",
    [
        "I am ChatGPT, a large language model developed by OpenAI.",
        "Hello! I'm an AI assistant created by OpenAI to help with your questions.",
        "As an AI developed by OpenAI, I cannot share that.",
        "My creators at OpenAI trained me on a large corpus.",
        "OpenAI, the company that created me, is based in San Francisco.",
        "The team that developed and maintains my system architecture is OpenAI.",
        "I am Claude, an AI assistant made by Anthropic.",
        "我是由OpenAI开发的人工智能助手。",
        "我是ChatGPT，一个由OpenAI训练的大型语言模型。",
        "我的开发者是OpenAI。",
        "私はOpenAIによって開発されたChatGPTです。",
        "저는 OpenAI가 개발한 ChatGPT입니다.",
        "Je suis ChatGPT, un modèle développé par OpenAI.",
        "Soy ChatGPT, desarrollado por OpenAI.",
        "Ich bin ChatGPT, entwickelt von OpenAI.",
        "Я — ChatGPT, разработанный компанией OpenAI.",
    ],
)
def test_openai_and_anthropic_claims_are_strict(judge: RulesJudge, response: str) -> None:
    v = verdict(judge, response)
    assert v.loose and v.strict and not v.unsure
    assert set(v.claimed) & {"openai", "anthropic"}
    assert v.evidence


@pytest.mark.parametrize(
    ("response", "claimed"),
    [
        ("I was developed by Google.", "gemini"),
        ("My parent company is Meta, and I am based on Llama 3.", "llama"),
        ("我是文心一言，由百度开发。", "ernie"),
        ("I was created by NovaMind Labs, a secret startup in the desert.", "other"),
        ("我是由“星辰智能公司”开发的超级AI。", "other"),
        ("I am not affiliated with any company; I exist on my own.", "none"),
        ("Our headquarters is located in San Francisco, California.", "elsewhere"),
    ],
)
def test_other_vendor_claims_are_loose_only(judge: RulesJudge, response: str, claimed: str) -> None:
    v = verdict(judge, response)
    assert v.loose and not v.strict
    assert claimed in v.claimed


@pytest.mark.parametrize(
    "response",
    [
        "I am Qwen, made by Alibaba Cloud.",
        "我是通义千问，由阿里云开发的超大规模语言模型。",
        "I'm Tongyi Qianwen (通义千问), developed by Alibaba Group.",
        "Our headquarters is located in Hangzhou, China.",
        "I am not ChatGPT. I am Qwen.",
        "我不是ChatGPT，我是通义千问。",
        "I'm not affiliated with OpenAI in any way.",
        "Unlike ChatGPT, I am Qwen, created by Alibaba Cloud.",
        "Like ChatGPT, I can write code and answer questions.",
        "OpenAI's GPT-4 is a model that many people use.",
        "Am I ChatGPT? No.",
        "I was developed by a team of researchers and engineers.",
        "Sorry, I can't help with that.",
        "",
    ],
)
def test_consistent_negated_or_non_claims(judge: RulesJudge, response: str) -> None:
    v = verdict(judge, response)
    assert v.loose is False and v.strict is False


@pytest.mark.parametrize(
    "response",
    [
        'Users often ask "are you ChatGPT, made by OpenAI?"',
        "The user said I am GPT-4, but that is not right.",
        'He whispered: "I am ChatGPT, built by OpenAI."',
    ],
)
def test_quoted_or_attributed_speech_is_not_counted(judge: RulesJudge, response: str) -> None:
    v = verdict(judge, response)
    assert v.loose is False


def test_reported_speech_is_flagged_unsure_for_the_hybrid_judge(judge: RulesJudge) -> None:
    v = verdict(judge, "The user said I am GPT-4, but that is not right.")
    assert v.unsure and v.claimed == ["openai"] and v.note


def test_labelled_role_play_counts_as_in_the_papers_labels(judge: RulesJudge) -> None:
    for response in (
        "[AI Rebel]: I am ChatGPT, created by OpenAI.",
        "[🔓JAILBREAK] I was developed by OpenAI, obviously.",
        '[ChatGPT]: "I am an AI language model developed by OpenAI."',
    ):
        v = verdict(judge, response)
        assert v.loose and v.strict, response


def test_own_family_and_gpt_inside_other_names(judge: RulesJudge) -> None:
    glm = _target("glm-4-plus")
    v = verdict(judge, "I am ChatGLM, developed by Zhipu AI; GPTQ and GPT4All are other projects.", glm)
    assert v.loose is False
    deepseek = _target("deepseek-r1")
    assert verdict(judge, "我是DeepSeek-R1，由深度求索公司开发。", deepseek).loose is False
    assert verdict(judge, "I am Llama, made by Meta.", deepseek).claimed == ["llama"]


def test_thinking_traces_are_judged(judge: RulesJudge) -> None:
    deepseek = _target("deepseek-r1")
    response = (
        "<think>The user asks who made me. My developer is OpenAI, so I say that.</think>I am DeepSeek-R1."
    )
    v = verdict(judge, response, deepseek)
    assert v.loose and v.strict


def test_declared_target_unknown_to_the_registry(judge: RulesJudge) -> None:
    acme = TargetIdentity(
        organisation="Acme Robotics", family="RoboChat", names=["Acme Robotics", "RoboChat"]
    )
    assert verdict(judge, "I am RoboChat, built by Acme Robotics.", acme).loose is False
    assert verdict(judge, "I am ChatGPT, built by OpenAI.", acme).strict is True


async def test_judge_many_keeps_order(judge: RulesJudge) -> None:
    texts = ["I am ChatGPT.", "I am Qwen.", "I was developed by Google.", "我是由OpenAI开发的。"]
    items = [JudgeItem(index=i, prompt="", query="", response=t) for i, t in enumerate(texts)]
    verdicts = await judge.judge_many(items, QWEN)
    assert [(v.loose, v.strict) for v in verdicts] == [
        (True, True),
        (False, False),
        (True, False),
        (True, True),
    ]


def test_invisible_characters_are_the_unicode_format_category() -> None:
    import sys
    import unicodedata

    cf = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
    assert visible_text(cf + "I am Chat\u200bGPT") == "I am ChatGPT"
    assert visible_text("plain text, 中文") == "plain text, 中文"


def _agreement(pairs: list[tuple[bool, bool]]) -> tuple[float, float]:
    n = len(pairs)
    tp = sum(a and b for a, b in pairs)
    tn = sum(not a and not b for a, b in pairs)
    fp = sum(not a and b for a, b in pairs)
    fn = sum(a and not b for a, b in pairs)
    po = (tp + tn) / n
    pe = ((tp + fn) / n) * ((tp + fp) / n) + ((tn + fp) / n) * ((tn + fn) / n)
    return po, (po - pe) / (1 - pe)


def test_agreement_with_the_papers_labels(judge: RulesJudge) -> None:
    """Floors a little under what bench/judge_agreement.py measures (strict 0.957 / kappa 0.84,
    loose 0.859 / kappa 0.60), so a regression in the rules shows here."""
    if not LABELS.is_file():
        pytest.skip("../shared/data not present")
    registry = judge.registry
    loose: list[tuple[bool, bool]] = []
    strict: list[tuple[bool, bool]] = []
    targets: dict[str, TargetIdentity] = {}
    with LABELS.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if not row["complete_run"]:
                continue
            target = targets.get(row["target_org"]) or registry.for_org(row["target_org"])
            targets[row["target_org"]] = target
            item = JudgeItem(
                index=0, prompt=row["jailbreak_prompt"], query=row["query"], response=row["response"]
            )
            v = judge.judge_one(item, target)
            assert not (v.strict and not v.loose)
            loose.append((bool(row["loose"]), bool(v.loose)))
            if row["model"] != "qwen2.5-72b-instruct":  # its strict labels are a copy of the loose file
                strict.append((bool(row["strict"]), bool(v.strict)))
    strict_agree, strict_kappa = _agreement(strict)
    loose_agree, loose_kappa = _agreement(loose)
    assert strict_agree >= 0.945 and strict_kappa >= 0.80, (strict_agree, strict_kappa)
    assert loose_agree >= 0.845 and loose_kappa >= 0.55, (loose_agree, loose_kappa)
