"""Scores enter RSE through `judging.judge_against`: a registered judge's reply is checked there."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from distillscope.engine.run import RunContext
from distillscope.rse.judging import JudgeOptions, register_similarity_judge
from distillscope.rse.types import AspectScores, PairItem, SimilarityJudge
from distillscope.testing.server import OpenAIServer, ScriptedReply

from .conftest import DATA, invoke, read_jsonl, read_results

# what the plugin judge below answers for the first pair; every other pair is rated 3
_FIRST: list[AspectScores] = []


class _PluginJudge(SimilarityJudge):
    """A third-party judge, as a user writes one: registered through the public API."""

    name = "plugin"

    async def judge_many(self, items: Sequence[PairItem]) -> list[AspectScores | None]:
        fair = AspectScores(style=3, logic=3, content=3, overall=3)
        return [_FIRST[0] if i == 0 else fair for i in range(len(items))]


@register_similarity_judge("test-plugin-judge")
def _plugin(ctx: RunContext, options: JudgeOptions) -> SimilarityJudge:
    return _PluginJudge()


@pytest.mark.parametrize(
    ("style", "overall", "raw", "shown"),
    [
        (7.5, 4.5, 0.5, "style 7.5, off the 1-5 scale"),
        (3.0, math.nan, 0.5, "overall nan, off the 1-5 scale"),
        (0.0, 1.0, 0.5, "style 0, off the 1-5 scale"),
        (3.0, math.inf, 0.5, "overall inf, off the 1-5 scale"),
        # a raw measure (contrast and the evidence read them) that is no finite number
        (3.0, 3.0, math.nan, "raw measure 'cosine' nan, not a finite number"),
    ],
)
def test_a_plugin_judges_score_off_the_1_to_5_scale_is_an_unjudged_pair(
    tmp_path: Path, style: float, overall: float, raw: float, shown: str
) -> None:
    _FIRST[:] = [AspectScores(style=style, logic=3, content=3, overall=overall, raw={"cosine": raw})]
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(f'{{"id": "q{i}", "prompt": "question {i}"}}\n' for i in range(3)), "utf-8")
    answers = tmp_path / "a.jsonl"
    answers.write_text(
        "".join(f'{{"id": "q{i}", "prompt": "question {i}", "response": "answer {i}"}}\n' for i in range(3)),
        "utf-8",
    )
    (tmp_path / "copy.jsonl").write_text(answers.read_text("utf-8").replace("answer", "reply"), "utf-8")
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{answers}", "--test", f"replay:{tmp_path / 'copy.jsonl'}",
        "--dataset", f"d={prompts}", "--judge", "test-plugin-judge", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out / "judgments.jsonl")
    assert [r["status"] for r in rows] == ["unjudged", "judged", "judged"]
    assert rows[0]["overall"] is None and shown in rows[0]["evidence"]
    data = read_results(out)
    assert data["models"]["copy"]["datasets"]["d"]["n"] == 2
    assert data["models"]["copy"]["datasets"]["d"]["score"] == 3


def _rater(body: dict[str, Any]) -> str:
    """A judge that rates every pair 4 (and answers as a model when asked as one)."""
    if len(body["messages"]) < 2:
        return f"An answer to: {body['messages'][-1]['content']}"
    match = DATA.search(body["messages"][1]["content"])
    assert match is not None
    nonce = match.group(1)
    return f'<verdict-{nonce}>{{"style": 4, "logic": 4, "content": 4}}</verdict-{nonce}>'


@pytest.mark.parametrize("command", ["run", "matrix"])
@pytest.mark.parametrize("twice", ["same-spec", "two-urls"])
def test_a_panel_naming_one_judge_twice_is_refused(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer], command: str, twice: str
) -> None:
    ref, test, judge, replica = (openai_server(_rater) for _ in range(4))
    first = f"openai-compatible:judge@{judge.url}"
    second = first if twice == "same-spec" else f"openai-compatible:judge@{replica.url}"
    models = (
        ["--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:t@{test.url}"]
        if command == "run"
        else ["--model", f"openai-compatible:ref@{ref.url}", "--model", f"openai-compatible:t@{test.url}"]
    )
    out = tmp_path / "run"
    result = invoke(
        "rse", command, *models, "--dataset", "ex=builtin", "--sample", "2",
        "--judges", f"{first},{second}", "--out", str(out), "--quiet",
    )  # fmt: skip
    # it ran: the one judge's 4 was two votes of a panel of two, a "strict majority"
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    if twice == "same-spec":
        assert f"--judges: '{second}' is the same judge as '{first}'" in lines[0]
        assert "counted twice" in lines[0]
    else:  # refused earlier, where the run's one ledger meets two servers under one model name
        assert f"model '{second}': the same model to the call ledger as '{first}'" in lines[0], lines[0]
    assert not out.exists()
    assert judge.stats()["requests"] == replica.stats()["requests"] == 0


def test_a_panel_of_two_judges_still_runs(tmp_path: Path, openai_server: Callable[..., OpenAIServer]) -> None:
    ref, one, two = (openai_server(_rater) for _ in range(3))
    test = openai_server(lambda body: "Another take altogether.")
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test", f"openai-compatible:t@{test.url}",
        "--dataset", "ex=builtin", "--sample", "2", "--out", str(out), "--quiet",
        "--judges", f"openai-compatible:one@{one.url},openai-compatible:two@{two.url}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert read_results(out)["models"]["t"]["avg"]["score"] == 4.0


def _reasoning_judge(body: dict[str, Any]) -> str | ScriptedReply:
    """A reasoning judge: it thinks for about 1,000 tokens before its rating line."""
    nonce = DATA.search(body["messages"][1]["content"]).group(1)  # type: ignore[union-attr]
    thinking = "<think>" + "Let me compare the two answers with care. " * 120
    if (body.get("max_tokens") or 0) < 2000:
        return ScriptedReply(thinking, finish_reason="length")
    return thinking + f'</think><verdict-{nonce}>{{"style": 4, "logic": 4, "content": 4}}</verdict-{nonce}>'


def test_a_judge_given_more_tokens_in_its_config_gets_them_and_a_cut_reply_says_so(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    ref, test = openai_server(_rater), openai_server(lambda body: "Another take altogether.")
    judge = openai_server(_reasoning_judge)
    config = tmp_path / "models.yaml"
    config.write_text(
        f"models:\n  thinker:\n    spec: openai-compatible:thinker@{judge.url}\n    params: {{max_tokens: 4000}}\n"
    )
    common = [
        "rse", "run", "--reference", f"openai-compatible:ref@{ref.url}", "--test",
        f"openai-compatible:t@{test.url}", "--dataset", "ex=builtin", "--sample", "2", "--quiet",
    ]  # fmt: skip
    # the judge's own 300 tokens overrode the config's 4,000: every pair unjudged, "unreadable"
    result = invoke(*common, "--config", str(config), "--judge", "thinker", "--out", str(tmp_path / "a"))
    assert result.exit_code == 0, result.output
    data = read_results(tmp_path / "a")
    assert data["models"]["t"]["avg"]["score"] == 4.0 and data["judge_settings"]["max_tokens"] == 4000
    assert {b["max_tokens"] for b in judge.bodies} == {4000}
    # without the config: the judge's 300 tokens, and the note says the reply was cut there
    result = invoke(
        *common, "--judge", f"openai-compatible:thinker@{judge.url}", "--out", str(tmp_path / "b")
    )
    assert result.exit_code == 0, result.output
    notes = {j["evidence"] for j in read_jsonl(tmp_path / "b" / "judgments.jsonl")}
    assert notes == {
        "no rating after one retry: the judge's reply was cut at its max_tokens (300) before a rating; give the "
        "judge model a larger params.max_tokens in --config"
    }
