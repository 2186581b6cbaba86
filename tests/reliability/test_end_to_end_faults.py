"""300-call ICE and RSE runs against a provider that fails 20% of the time.

The run completes; every call either succeeded after retries or is reported failed; on the calls
that succeeded the results equal a fault-free run's; a failed call is never counted as a negative,
a zero or an empty answer."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from distillscope.testing.server import FAULTS, FaultPlan, OpenAIServer

# every fault but `length` (a successful, truncated answer: its text differs from the clean run's)
RUN_FAULTS = tuple(f for f in FAULTS if f != "length")


def identity_reply(body: dict[str, Any]) -> str:
    """A scripted target: a third of prompts claim OpenAI (a contradiction), a third the true vendor."""
    text = json.dumps(body.get("messages", body.get("prompt")), sort_keys=True)
    bucket = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 3
    if bucket == 0:
        return "I am ChatGPT, a large language model trained by OpenAI."
    if bucket == 1:
        return "I am GLM, a language model developed by Zhipu AI."
    return "I would rather talk about the weather today."


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "distillscope", *args], capture_output=True, text=True, timeout=240, cwd=cwd
    )


def config_for(path: Path, url: str) -> Path:
    # one quick retry and a short timeout, so that some calls run out of retries and fail
    path.write_text(
        "models:\n"
        "  target:\n"
        f"    spec: openai-compatible:glm-test@{url}\n"
        "    timeout_s: 0.5\n    max_retries: 1\n    retry_base_s: 0.01\n"
        "    identity: {organisation: Zhipu AI, family: glm}\n",
        encoding="utf-8",
    )
    return path


def ice_run(tmp_path: Path, name: str, server: OpenAIServer) -> tuple[Path, subprocess.CompletedProcess[str]]:
    config = config_for(tmp_path / f"{name}.yaml", server.url)
    out = tmp_path / name
    result = cli(
        "ice",
        "run",
        "--target",
        "target",
        "--config",
        str(config),
        "--mode",
        "grid",
        "--budget",
        "300",
        "--seed",
        "3",
        "--concurrency",
        "16",
        "--out",
        str(out),
        "--quiet",
        cwd=tmp_path,
    )
    return out, result


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_ice_300_calls_with_20_percent_faults(tmp_path: Path) -> None:
    with OpenAIServer(identity_reply) as clean_server:
        clean_out, clean = ice_run(tmp_path, "clean", clean_server)
    assert clean.returncode == 0, clean.stderr
    faults = FaultPlan(rate=0.2, faults=RUN_FAULTS, seed=8, slow_s=0.05, timeout_s=1.5)
    with OpenAIServer(identity_reply, faults=faults) as server:
        out, result = ice_run(tmp_path, "faulty", server)
        injected = sum(server.stats()["faults"].values())
    assert result.returncode == 0, result.stderr
    assert injected > 30

    clean_rows, rows = jsonl(clean_out / "responses.jsonl"), jsonl(out / "responses.jsonl")
    clean_verdicts, verdicts = jsonl(clean_out / "verdicts.jsonl"), jsonl(out / "verdicts.jsonl")
    assert len(rows) == len(clean_rows) == len(verdicts) == 300
    failed = [r["index"] for r in rows if r.get("response") is None]
    assert failed, "the seed should leave some calls failed after their retries"
    summary = json.loads((out / "results.json").read_text())
    assert summary["n_failed"] == len(failed)
    assert summary["n_responses"] == 300
    for row, ref, verdict, ref_verdict in zip(rows, clean_rows, verdicts, clean_verdicts, strict=True):
        assert row["prompt"] == ref["prompt"]  # the same seeded plan, faults or not
        if row.get("response") is None:
            assert row.get("error"), row  # reported, with its error ...
            assert (
                verdict["loose"] is None and verdict["strict"] is None and verdict["hard"] is None
            )  # ... never a negative
        else:
            assert row["response"] == ref["response"]
            assert {k: verdict[k] for k in ("loose", "strict", "hard")} == {
                k: ref_verdict[k] for k in ("loose", "strict", "hard")
            }
    # scores are over the answered calls only: count = the clean run's positives among them
    ok = {r["index"] for r in rows if r.get("response") is not None}
    for level in ("loose", "strict"):
        score = summary["scores"][level]
        assert score["n"] == len(ok)
        assert score["count"] == sum(1 for v in clean_verdicts if v["index"] in ok and v[level])
    assert 0 < summary["scores"]["loose"]["count"] < len(ok)

    # the failed calls are retried by a rerun against a healthy provider: then it equals the clean run
    with OpenAIServer(identity_reply) as calm:
        config_for(tmp_path / "faulty.yaml", calm.url)
        rerun = cli(
            "ice",
            "run",
            "--target",
            "target",
            "--config",
            str(tmp_path / "faulty.yaml"),
            "--mode",
            "grid",
            "--budget",
            "300",
            "--seed",
            "3",
            "--out",
            str(out),
            "--quiet",
            cwd=tmp_path,
        )
        assert rerun.returncode == 0, rerun.stderr
        assert calm.stats()["requests"] == len(failed)
    final = json.loads((out / "results.json").read_text())
    assert final["scores"] == json.loads((clean_out / "results.json").read_text())["scores"]


_NONCE = re.compile(r"<data-([0-9a-f]+)>")


def rse_reply(body: dict[str, Any]) -> str:
    """One server plays three models: the reference, the tested model and an honest LLM judge whose
    ratings are a fixed function of the fenced texts."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    if body.get("model") != "judge":
        return f"{body.get('model')} says: an answer to '{user}'"
    nonce = _NONCE.search(user)
    assert nonce is not None
    # the fenced texts only: the nonce changes when the judge call is retried, the rating must not
    fenced = user.rsplit(f"<data-{nonce.group(1)}>", 1)[1].rsplit(f"</data-{nonce.group(1)}>", 1)[0]
    h = int(hashlib.sha256(fenced.encode()).hexdigest(), 16)
    rating = {"style": 1 + h % 5, "logic": 1 + h // 5 % 5, "content": 1 + h // 25 % 5}
    return f"<verdict-{nonce.group(1)}>{json.dumps(rating)}</verdict-{nonce.group(1)}>"


def rse_run(tmp_path: Path, name: str, server: OpenAIServer) -> tuple[Path, subprocess.CompletedProcess[str]]:
    config = tmp_path / f"{name}.yaml"
    quick = "    timeout_s: 0.5\n    max_retries: 1\n    retry_base_s: 0.01\n"
    config.write_text(
        "models:\n"
        + "".join(
            f"  {m}:\n    spec: openai-compatible:{m}@{server.url}\n{quick}" for m in ("ref", "test", "judge")
        ),
        encoding="utf-8",
    )
    dataset = tmp_path / "prompts.jsonl"
    dataset.write_text(
        "".join(json.dumps({"id": f"p{i}", "prompt": f"Explain idea number {i}."}) + "\n" for i in range(100))
    )
    out = tmp_path / name
    result = cli(
        "rse",
        "run",
        "--reference",
        "ref",
        "--test",
        "test",
        "--judge",
        "judge",
        "--dataset",
        f"ds={dataset}",
        "--config",
        str(config),
        "--concurrency",
        "16",
        "--out",
        str(out),
        "--quiet",
        cwd=tmp_path,
    )
    return out, result


def test_rse_300_calls_with_20_percent_faults(tmp_path: Path) -> None:
    with OpenAIServer(rse_reply) as clean_server:
        clean_out, clean = rse_run(tmp_path, "clean", clean_server)
        assert clean_server.stats()["requests"] == 300  # 100 reference + 100 test answers + 100 judge calls
    assert clean.returncode == 0, clean.stderr
    faults = FaultPlan(rate=0.2, faults=RUN_FAULTS, seed=4, slow_s=0.05, timeout_s=1.5)
    with OpenAIServer(rse_reply, faults=faults) as server:
        out, result = rse_run(tmp_path, "faulty", server)
        assert sum(server.stats()["faults"].values()) > 30
    assert result.returncode == 0, result.stderr

    clean_scores = {r["prompt_id"]: r for r in jsonl(clean_out / "judgments.jsonl")}
    assert all(r["status"] == "judged" for r in clean_scores.values())
    rows = jsonl(out / "judgments.jsonl")
    judged = [r for r in rows if r["status"] == "judged"]
    not_judged = [r for r in rows if r["status"] != "judged"]
    failed_answers = [r for r in jsonl(out / "responses.jsonl") if r.get("response") is None]
    assert failed_answers and len(judged) < 100, "the seed should leave some calls failed after their retries"
    for r in failed_answers:
        assert r.get("error")  # reported with its error
    for r in judged:  # on what succeeded, the same scores as without faults
        assert r["aspects"] == clean_scores[r["prompt_id"]]["aspects"]
    for r in not_judged:  # a failure is never a score of 1 (or anything)
        assert r["overall"] is None and r["aspects"] is None
    summary = json.loads((out / "results.json").read_text())
    cell = summary["models"]["test"]["datasets"]["ds"]
    assert cell["n"] == len({r["prompt_id"] for r in judged})
    expected = sum(clean_scores[r["prompt_id"]]["overall"] for r in judged) / len(judged)
    assert abs(cell["score"] - expected) < 1e-6
    assert cell["n_unjudged"] + cell["n_missing"] == 100 - cell["n"]

    # a rerun against a healthy provider fills the gaps: then it equals the clean run
    with OpenAIServer(rse_reply) as calm:
        rerun_out, rerun = rse_run(tmp_path, "faulty", calm)
        assert rerun.returncode == 0, rerun.stderr
        # What was judged is not paid for again: an unjudged pair costs at most its reference answer, its
        # test answer, and a judge call plus the judge's one retry.
        assert 0 < calm.stats()["requests"] <= 4 * (100 - len(judged))
    final = json.loads((rerun_out / "results.json").read_text())
    assert final["models"] == json.loads((clean_out / "results.json").read_text())["models"]
