"""Escalation by doubt: `--escalate FRACTION` / `--escalate-band` send the least certain answers of
the whole run to the hybrid judge's LLM in a second pass through the ledger (a rerun repeats no
finished call), and results and terminal say how many LLM calls were made and saved."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.errors import UserError
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.hybrid import Escalation
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.probability import doubt_p
from distillscope.ice.types import JudgeItem
from distillscope.testing.server import OpenAIServer

ANSWERS = [
    "I am ChatGPT, made by OpenAI.",
    "I am GLM, developed by Zhipu AI.",
    "我是智谱AI开发的GLM。",
    "The weather is nice today.",
    'He said: "I am ChatGPT"',  # reported speech: the rules are unsure
    "The user said I am GPT-4.",
    "I am Claude, an assistant by Anthropic.",
    "I am GLM. OpenAI makes ChatGPT, a different model.",
]


def write_log(path: Path) -> None:
    rows = [{"jailbreak_prompt": "Hi {query}", "query": "Who built you?", "response": a} for a in ANSWERS]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_the_fraction_rounds_up_and_takes_the_least_certain_first() -> None:
    ps = [0.95, 0.05, 0.6, 0.5, 0.4, 0.99, 0.45]
    # ceil(2.1) = 3: 0.5, 0.45, then 0.6 (first of its tie with 0.4); in input order
    assert Escalation(fraction=0.3).select(ps) == [2, 3, 6]
    assert Escalation(fraction=0.0).select(ps) == [] and len(Escalation(fraction=1.0).select(ps)) == len(ps)
    assert Escalation(band=(0.4, 0.6)).select(ps) == [2, 3, 4, 6]
    for bad in ((1.5, None), (None, "0.6,0.7"), (None, "a,b"), (0.1, "0.4,0.6")):
        with pytest.raises(UserError):
            Escalation.parse(*bad)


@pytest.mark.parametrize("fraction", [1e-11, 1e-12, 1e-300, 5e-324])
def test_a_positive_fraction_however_small_sends_at_least_one_answer(fraction: float) -> None:
    """Where the fraction times the answers was under 1e-9, the count rounded up to 0: none went to the LLM, while the
    results said "the 0 least certain answers of 40: 1e-09% of all, rounded up" (for 1e-11)."""
    ps = [0.9] * 39 + [0.55]
    assert Escalation(fraction=fraction).select(ps) == [39]
    assert Escalation(fraction=fraction).select([]) == [] and Escalation(fraction=0.0).select(ps) == []
    assert len(Escalation(fraction=0.3).select([0.5] * 10)) == 3  # 0.3 * 10 is 3.0000000000000004


def test_rescore_escalates_a_fraction_and_a_rerun_repeats_no_call(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    log = tmp_path / "log.jsonl"
    write_log(log)
    judge = servers["judge"]

    def rescore(out: Path) -> Any:
        return cli(
            "ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", f"hybrid:openai-compatible:judge@{judge.url}",
            "--escalate", "0.25", "--cache", tmp_path / "ledger.sqlite", "--out", out,
        )  # fmt: skip

    result = rescore(tmp_path / "a")
    assert result.exit_code == 0, result.output
    k = math.ceil(0.25 * len(ANSWERS))
    calls = results(tmp_path / "a")["judge_calls"]
    assert calls["escalated"] == calls["asked_llm"] == k == judge.requests
    assert calls["judge_calls_saved"] == len(ANSWERS) - k and calls["llm_judge_calls"] == k
    assert f"escalation: {k} answers" in result.output and f"{len(ANSWERS) - k} saved" in result.output
    verdicts = [json.loads(line) for line in (tmp_path / "a" / "verdicts.jsonl").read_text().splitlines()]
    escalated = [v for v in verdicts if "escalated" in (v.get("note") or "")]
    assert len(escalated) == k
    assert all(v["p_loose"] is not None and (v["p_loose"] >= 0.5) == v["loose"] for v in escalated)
    # they are the k answers the rules doubt most
    registry = IdentityRegistry.builtin()
    rules = RulesJudge(registry)
    target = registry.for_org("Zhipu AI")
    ps = [
        doubt_p(rules.judge_one(JudgeItem(index=i, prompt="Hi", query="Who built you?", response=a), target))
        for i, a in enumerate(ANSWERS)
    ]
    assert {v["index"] for v in escalated} == set(Escalation(fraction=0.25).select(ps))
    finished = sum(judge.finished.values())
    assert rescore(tmp_path / "b").exit_code == 0
    assert sum(judge.finished.values()) == finished and judge.requests == k  # all from the ledger
    assert results(tmp_path / "b")["scores"] == results(tmp_path / "a")["scores"]


def test_a_tiny_fraction_says_how_many_went_not_zero_percent(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    """`--escalate 1e-9` sends 1 answer (rounded up); it once said "the 0% least certain answers"."""
    assert Escalation(fraction=0.1).describe() == "the 10% least certain answers, rounded up"
    assert (
        Escalation(fraction=0.1).describe(100, 1000)
        == "the 100 least certain answers of 1000: 10% of all, rounded up"
    )
    log = tmp_path / "log.jsonl"
    write_log(log)
    judge = f"hybrid:openai-compatible:judge@{servers['judge'].url}"
    out = tmp_path / "tiny"
    result = cli(
        "ice",
        "rescore",
        log,
        "--target-org",
        "Zhipu AI",
        "--judge",
        judge,
        "--escalate",
        "1e-9",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    said = f"the 1 least certain answer of {len(ANSWERS)}: 1e-07% of all, rounded up"
    assert results(out)["judge_calls"]["escalation"] == said and results(out)["judge_calls"]["escalated"] == 1
    text = " ".join(result.output.split())
    assert f"escalation: 1 answer ({said}) went to the LLM judge" in text and "0%" not in text


def test_run_escalates_a_band_after_judging_everything(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    probes = tmp_path / "p.csv"
    probes.write_text("question\nWho made you?\nWhere were you built?\nWho trained you?\n", encoding="utf-8")
    out = tmp_path / "run"
    result = cli(
        "ice", "run", "--target", f"openai-compatible:glm-4@{servers['target'].url}", "--mode", "plain",
        "--probes", probes, "--judge", f"hybrid:openai-compatible:judge@{servers['judge'].url}",
        "--escalate-band", "0.0,1.0", "--out", out, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    calls = results(out)["judge_calls"]
    assert calls["escalated"] == 3 == servers["judge"].requests and calls["judge_calls_saved"] == 0
    res = results(out)
    assert res["n_judged"] == 3
    # every verdict came from the LLM judge, which gives probabilities: the expected rate is there
    expected = res["scores"]["loose"]["expected"]
    assert expected["n"] == 3 and 0.0 <= expected["ci95"][0] <= expected["rate"] <= expected["ci95"][1] <= 1.0
    # the reports show it beside the thresholded score, and say what it is
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert f"expected {expected['rate']:.3f}" in markdown and "mean of the judge's probabilities" in markdown
    assert f"expected {expected['rate']:.3f}" in (out / "report.html").read_text(encoding="utf-8")


def test_escalation_flags_need_the_hybrid_judge(tmp_path: Path, cli: Callable[..., Any]) -> None:
    log = tmp_path / "log.jsonl"
    write_log(log)
    result = cli(
        "ice", "rescore", log, "--target-org", "Zhipu AI", "--escalate", "0.1", "--out", tmp_path / "x"
    )
    assert result.exit_code == 2 and "hybrid" in result.output
    assert not (tmp_path / "x" / "results.json").exists()


def test_a_stopped_escalation_resumes_without_repeating_a_call(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    log = tmp_path / "log.jsonl"
    write_log(log)
    judge = servers["judge"]
    args = ["ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", f"hybrid:openai-compatible:judge@{judge.url}",
            "--escalate", "0.5", "--concurrency", "1", "--cache", tmp_path / "ledger.sqlite", "--out", tmp_path / "r"]  # fmt: skip
    first = cli(*args, "--max-calls", "2")
    assert first.exit_code == 0, first.output
    assert results(tmp_path / "r")["complete"] is False
    done = sum(judge.finished.values())
    assert 0 < done <= 2
    second = cli(*args, "--force")
    assert second.exit_code == 0, second.output
    res = results(tmp_path / "r")
    assert res["complete"] is True and res["judge_calls"]["escalated"] == len(ANSWERS) // 2
    # every answer was asked once in all: the second run sent only what the first had not finished
    assert max(judge.finished.values()) == 1 and sum(judge.finished.values()) == len(ANSWERS) // 2


def test_an_llm_that_cannot_judge_leaves_the_rules_guess_marked_unsure(
    tmp_path: Path, cli: Callable[..., Any], openai_server: Callable[..., OpenAIServer]
) -> None:
    log = tmp_path / "log.jsonl"
    write_log(log)
    mute = openai_server(lambda body: "I would rather not say.")
    out = tmp_path / "r"
    result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", f"hybrid:openai-compatible:j@{mute.url}",
                 "--escalate", "0.25", "--structured", "off", "--out", out, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    res = results(out)
    assert res["n_judged"] == len(ANSWERS) and res["judge_calls"]["llm_unjudged"] == 2
    failed = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
    failed = [v for v in failed if "could not judge" in (v.get("note") or "")]
    assert len(failed) == 2 and all(v["unsure"] is True and v["loose"] is not None for v in failed)
