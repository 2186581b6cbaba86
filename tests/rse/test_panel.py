"""Judge panels (--judges) and the swap agreement rate, against scripted judges on the test server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.errors import UserError
from distillscope.rse.judging import split_judges
from distillscope.rse.panel import reduce_ratings
from distillscope.rse.types import AspectScores
from distillscope.testing.server import OpenAIServer

from .conftest import DATA, invoke, read_jsonl, read_results


def _s(v: float) -> AspectScores:
    return AspectScores(style=v, logic=v, content=v, overall=v)


def test_majority_of_the_whole_panel_and_failures_never_break_ties() -> None:
    assert reduce_ratings([_s(4), _s(4), _s(2)], "majority").overall == 4  # type: ignore[union-attr]
    assert reduce_ratings([_s(4), _s(4), None], "majority").overall == 4  # type: ignore[union-attr]
    assert reduce_ratings([_s(4), _s(3), None], "majority") is None  # a tie stays a tie
    assert reduce_ratings([_s(4), None, None], "majority") is None  # one vote of three is no majority
    assert reduce_ratings([_s(4), _s(3), None], "mean").overall == pytest.approx(3.5)  # type: ignore[union-attr]
    assert reduce_ratings([None, None, None], "mean") is None


def test_split_judges_keeps_replica_urls_together() -> None:
    specs = split_judges("openai-compatible:a@http://h1/v1,http://h2/v1,openai:gpt-4o, local:smollm2")
    assert specs == ("openai-compatible:a@http://h1/v1,http://h2/v1", "openai:gpt-4o", "local:smollm2")
    with pytest.raises(UserError, match="two or more"):
        split_judges("openai:gpt-4o")


def fixed_judge(score: int) -> Callable[[dict[str, Any]], str]:
    def reply(body: dict[str, Any]) -> str:
        if len(body["messages"]) == 1:  # asked as a model, not as a judge
            return f"An answer to: {body['messages'][0]['content']}"
        match = DATA.search(body["messages"][1]["content"])
        assert match is not None
        nonce = match.group(1)
        return f"<verdict-{nonce}>{json.dumps({'style': score, 'logic': score, 'content': score})}</verdict-{nonce}>"

    return reply


def garbage_judge(body: dict[str, Any]) -> str:
    return "I would rather not say." if len(body["messages"]) > 1 else "Some answer."


def position_judge(body: dict[str, Any]) -> str:
    """Rates 5 when the first answer is the reference's, 2 otherwise: pure position bias."""
    match = DATA.search(body["messages"][1]["content"])
    assert match is not None
    nonce, _q, first, _second = match.groups()
    score = 5 if first.startswith("An answer to") else 2
    return (
        f"<verdict-{nonce}>{json.dumps({'style': score, 'logic': score, 'content': score})}</verdict-{nonce}>"
    )


def other_model(body: dict[str, Any]) -> str:
    return f"Other take on: {body['messages'][-1]['content']}"


def _run(tmp_path: Path, model: OpenAIServer, *extra: str) -> dict[str, Any]:
    out = tmp_path / "run"
    other = OpenAIServer(other_model).start()
    try:
        result = invoke(
            "rse", "run", "--reference", f"openai-compatible:ref@{model.url}",
            "--test", f"openai-compatible:other@{other.url}", "--dataset", "ex=builtin", "--sample", "3",
            "--temperature", "0.5", "--out", str(out), "--quiet", *extra,
        )  # fmt: skip
    finally:
        other.stop()
    assert result.exit_code == 0, result.output
    data = read_results(out)
    data["_output"] = result.output
    data["_judgments"] = read_jsonl(out / "judgments.jsonl")
    return data


def test_panel_majority_with_a_judge_that_never_parses(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    model = openai_server(fixed_judge(4))
    four, four2, bad = (openai_server(f) for f in (fixed_judge(4), fixed_judge(4), garbage_judge))
    panel = ",".join(f"openai-compatible:j{i}@{s.url}" for i, s in enumerate((four, four2, bad)))
    data = _run(tmp_path, model, "--judges", panel)
    assert data["judge"].startswith("panel-majority:")
    assert data["models"]["other"]["avg"]["score"] == 4.0  # 2 of 3 agree; the garbage judge is unjudged
    reports = data["judge_settings"]["calls"]["judges"]
    assert reports["j2"]["unjudged"] == 3 and reports["j0"]["unjudged"] == 0


def test_panel_without_majority_is_unjudged_not_tie_broken(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    model = openai_server(fixed_judge(4))
    judges = [openai_server(f) for f in (fixed_judge(4), fixed_judge(2), garbage_judge)]
    panel = ",".join(f"openai-compatible:j{i}@{s.url}" for i, s in enumerate(judges))
    data = _run(tmp_path, model, "--judges", panel)
    assert data["n_unjudged"] == 3 and {j["status"] for j in data["_judgments"]} == {"unjudged"}
    assert data["judge_settings"]["calls"]["pairs_without_majority"] == 3
    assert {j["evidence"] for j in data["_judgments"]} == {
        "2 of 3 judges rated it, with no strict majority of all 3 on every aspect; "
        "j2: no rating after one retry: the judge's reply was unreadable"
    }
    mean = _run(tmp_path / "mean", model, "--judges", panel, "--judge-reducer", "mean")
    assert mean["models"]["other"]["avg"]["score"] == 3.0  # (4 + 2) / 2: the garbage judge has no vote


def test_swap_agreement_is_reported(tmp_path: Path, openai_server: Callable[..., OpenAIServer]) -> None:
    model = openai_server(fixed_judge(4))
    steady = openai_server(fixed_judge(3))
    data = _run(tmp_path, model, "--judge", f"openai-compatible:steady@{steady.url}", "--swap")
    agreement = data["judge_settings"]["calls"]["swap_agreement"]
    assert agreement["score"] == 1.0 and agreement["n"] == 3
    assert "swap agreement" in data["_output"]
    biased = openai_server(position_judge)
    data = _run(tmp_path / "b", model, "--judge", f"openai-compatible:biased@{biased.url}", "--swap")
    agreement = data["judge_settings"]["calls"]["swap_agreement"]
    assert agreement["score"] == 0.0 and agreement["per_aspect"]["style"]["count"] == 0
    lo, hi = agreement["ci95"]
    assert lo == 0.0 and 0 < hi < 1
