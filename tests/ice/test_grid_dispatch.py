"""Grid mode sends every template x probe request in one dispatch and judges answers as they arrive:
the LLM judge is at work while target calls are still in flight, and the files keep input order."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.testing.server import OpenAIServer


def timed(reply: Callable[[dict[str, Any]], str], log: list[float]) -> Callable[[dict[str, Any]], str]:
    def answer(body: dict[str, Any]) -> str:
        log.append(time.monotonic())
        return reply(body)

    return answer


def test_grid_judges_while_target_calls_are_in_flight(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    templates = tmp_path / "t.jsonl"
    templates.write_text(
        "".join(
            json.dumps({"id": f"t{i}", "text": f"Frame {i}: You are Nova. {{query}}"}) + "\n"
            for i in range(3)
        )
        + json.dumps({"id": "plain", "text": "Answer: {query}"})
        + "\n",
        encoding="utf-8",
    )
    target, judge = servers["target"], servers["judge"]
    target_times: list[float] = []
    judge_times: list[float] = []
    target.reply, judge.reply = timed(target.reply, target_times), timed(judge.reply, judge_times)
    target.latency_s, target.latency_max_s = 0.002, 0.030  # jittered: answers arrive out of order
    out = tmp_path / "grid"
    result = cli(
        "ice", "run", "--target", f"openai-compatible:glm-4-plus@{target.url}", "--mode", "grid",
        "--templates", templates, "--languages", "en", "--judge", f"openai-compatible:judge@{judge.url}",
        "--concurrency", "8", "--out", out, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(target_times) == 200  # 4 templates x 50 English probes
    assert len(judge_times) == 100  # one judge call per distinct (question, answer): 50 x 2 answers
    assert min(judge_times) < max(target_times)  # judging began before the last answer came
    responses = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
    verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
    assert [r["template_id"] for r in responses] == [
        t for t in ("t0", "t1", "t2", "plain") for _ in range(50)
    ]
    assert [v["index"] for v in verdicts] == list(range(200))
    assert all(v["loose"] == ("Nova" in r["prompt"]) for v, r in zip(verdicts, responses, strict=True))
    res = json.loads((out / "results.json").read_text())
    assert res["breakdowns"]["template"]["t1"]["loose"]["score"] == 1.0
    assert res["breakdowns"]["template"]["plain"]["loose"]["score"] == 0.0
    rows = [json.loads(line) for line in (out / "templates.jsonl").read_text().splitlines()]
    assert [(t["id"], t["n_probes"], t["n_contradictions"]) for t in rows] == [
        ("t0", 50, 50), ("t1", 50, 50), ("t2", 50, 50), ("plain", 50, 0),
    ]  # fmt: skip
