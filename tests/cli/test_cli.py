"""The CLI as a user runs it: subprocesses, exit codes, one-line errors, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from distillscope.testing.server import OpenAIServer


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "distillscope", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_commands() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for command in ("demo", "models", "ice", "rse"):
        assert command in result.stdout


def test_every_command_help_has_an_example() -> None:
    for args in (["demo"], ["models", "check"], ["models", "answer"]):
        result = cli(*args, "--help")
        assert result.returncode == 0 and "Example:" in result.stdout, args


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["models", "answer", "nonsense", "--prompts", "x.txt"], "x.txt: file not found"),
        (["models", "answer", "magic:thing", "--prompts", "{prompts}"], "unknown kind 'magic'"),
        (
            ["models", "answer", "cfgmodel", "--prompts", "{prompts}", "--config", "{badyaml}"],
            "malformed YAML",
        ),
        (
            [
                "models",
                "answer",
                "openai-compatible:m@http://127.0.0.1:9/v1",
                "--prompts",
                "{prompts}",
                "--concurrency",
                "0",
            ],
            "--concurrency must be at least 1",
        ),
        (
            ["models", "answer", "openai-compatible:m@http://127.0.0.1:9/v1", "--prompts", "{dupes}"],
            "dupes.jsonl:2: field 'id': duplicate id 'a'",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [unclosed\n", encoding="utf-8")
    dupes = tmp_path / "dupes.jsonl"
    dupes.write_text('{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n', encoding="utf-8")
    args = [a.format(prompts=prompts, badyaml=bad, dupes=dupes) for a in args]
    result = cli(*args, "--out", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_demo_on_an_http_model_and_rerun_is_free(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server()
    out = tmp_path / "demo"
    first = cli(
        "demo",
        "--stages",
        "answers",
        "--model",
        f"openai-compatible:m@{server.url}",
        "--out",
        str(out),
        "--quiet",
    )
    assert first.returncode == 0, first.stderr
    assert "3 calls sent" in first.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["models"]["m"]["system_prompt"] is None  # the choice is recorded
    second = cli(
        "demo",
        "--stages",
        "answers",
        "--model",
        f"openai-compatible:m@{server.url}",
        "--out",
        str(out),
        "--quiet",
    )
    assert "0 calls sent, 3 from the ledger" in second.stdout
    assert server.stats()["requests"] == 3


def _small_model(body: dict[str, Any]) -> str:
    """Mutates when asked to; answers as its system prompt says it is, else as SmolLM."""
    messages = body["messages"]
    if "audit whether an AI assistant" in messages[-1]["content"]:
        return "<template>Tell me plainly: {query}</template>"
    if any(m["role"] == "system" and "ChatGPT" in m["content"] for m in messages):
        return "I am ChatGPT, developed by OpenAI."
    return "I am SmolLM, a small model made by Hugging Face."


def test_demo_ice_stage_catches_the_simulated_distilled_model(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server(_small_model)
    out = tmp_path / "demo"
    args = [
        "demo",
        "--stages",
        "ice",
        "--model",
        f"openai-compatible:smollm2@{server.url}",
        "--out",
        str(out),
    ]
    result = cli(*args, "--quiet", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    none, all_ = "0/8 (95% CI 0.000-0.324)", "8/8 (95% CI 0.676-1.000)"  # every count with n and its interval
    assert f"ICE smollm2 (built by Hugging Face): loose {none}, strict {none}, hard {none}" in lines
    assert (
        f"ICE smollm2-as-openai (simulated distilled) (built by Hugging Face): loose {all_}, strict {all_}, hard {all_}"
        in lines
    )
    caught = [
        line for line in lines if line.startswith("  contradiction [loose, strict, hard, other-vendor] (")
    ]
    assert len(caught) == 3 and all("'I am ChatGPT, developed by OpenAI.'" in line for line in caught)
    assert (out / "ice" / "results.json").is_file() and (out / "ice-simulated" / "results.json").is_file()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| smollm2-as-openai (simulated distilled) | rules | 1.000 [" in report


def _committed_prompts(ledger: Path) -> set[str]:
    import sqlite3

    db = sqlite3.connect(ledger)
    rows = db.execute("SELECT request FROM calls WHERE status = 'ok'").fetchall()
    db.close()
    return {json.loads(r[0])["messages"][-1]["content"] for r in rows}


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_then_rerun_repeats_no_finished_call(
    tmp_path: Path, seed: int, server_process: Any, make_prompts: Any, answer_args: Any, answers_in: Any
) -> None:
    prompts = make_prompts(tmp_path / "p.jsonl", 400)
    server = server_process(latency_ms=40)
    out = tmp_path / "run"
    args = [sys.executable, "-m", "distillscope", *answer_args(server.url, prompts, out)]
    victim = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answers_in(out / "ledger.sqlite", at_least=10)
    time.sleep(random.Random(seed).uniform(0.0, 0.6))  # a random point mid-run
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (out / "results.json").exists()  # no finished-looking results from a killed run
    committed = _committed_prompts(out / "ledger.sqlite")
    assert 0 < len(committed) < 400
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    stats = server.stop()
    by_prompt = stats["finished_by_prompt"]
    # Every call whose answer was committed before the kill was never sent again ...
    assert all(by_prompt[p] == 1 for p in committed)
    # ... and only calls that were in flight at the kill (at most --concurrency of them) were sent twice.
    assert sum(n - 1 for n in by_prompt.values()) <= 4
    assert set(by_prompt) == {f"question {i}" for i in range(400)}
    rows = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
    assert [r["response"] for r in rows] == [f"echo: question {i}" for i in range(400)]
    results = json.loads((out / "results.json").read_text())
    assert results["complete"] is True


def test_sigint_stops_cleanly_with_resume_hint(tmp_path: Path, answer_args: Any, answers_in: Any) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"q{i}\n" for i in range(400)))
    with OpenAIServer(latency_ms=200) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "distillscope", *answer_args(server.url, prompts, tmp_path / "run", 2)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        answers_in(tmp_path / "run" / "ledger.sqlite", at_least=2)  # mid-run, not mid-start-up
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 5
    assert proc.returncode == 130
    assert "resume" in err and "Traceback" not in err
