"""Crashes: SIGKILL at random points (while calls finish and the ledger is written), then rerun; and
Ctrl-C. The server runs in its own process and counts finished requests by body hash, so a repeated
finished call cannot hide."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.testing.server import OpenAIServer

N_PROMPTS = 60


def comparable(results: dict[str, Any]) -> dict[str, Any]:
    """results.json without what describes this process's run (timestamps, calls sent, its own --out)."""
    kept = {k: v for k, v in results.items() if k != "run"}
    if isinstance(kept.get("settings"), dict):
        kept["settings"] = {k: v for k, v in kept["settings"].items() if k != "out"}
    return kept


def kill_when(
    out: Path,
    ok_rows: Callable[[Path], int],
    target: int,
    proc: subprocess.Popen[bytes],
    deadline_s: float = 30,
) -> int:
    """SIGKILL `proc` as soon as its ledger holds `target` finished rows (i.e. in the middle of writes)."""
    ledger = out / "ledger.sqlite"
    end = time.monotonic() + deadline_s
    seen = 0
    while time.monotonic() < end and proc.poll() is None:
        seen = ok_rows(ledger)
        if seen >= target:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    return seen


@pytest.fixture(scope="module")
def uninterrupted(
    tmp_path_factory: pytest.TempPathFactory, make_prompts: Any, answer_args: Any
) -> tuple[Path, Path]:
    """The prompts and the run directory of one uninterrupted run, shared by the kill seeds."""
    base = tmp_path_factory.mktemp("uninterrupted")
    prompts = make_prompts(base / "p.jsonl", N_PROMPTS)
    with OpenAIServer(latency_ms=5) as server:
        clean = subprocess.run(
            [sys.executable, "-m", "distillscope", *answer_args(server.url, prompts, base / "clean")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert clean.returncode == 0, clean.stderr
    return prompts, base / "clean"


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_sigkill_at_a_random_point_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path,
    seed: int,
    server_process: Any,
    run_cli: Any,
    ok_rows: Any,
    read_ledger: Any,
    uninterrupted: tuple[Path, Path],
    answer_args: Any,
) -> None:
    prompts, clean_out = uninterrupted
    server = server_process(latency_ms=15)
    out = tmp_path / "run"
    rng = random.Random(seed)
    target = rng.randint(1, N_PROMPTS - 8)
    victim = subprocess.Popen(
        [sys.executable, "-m", "distillscope", *answer_args(server.url, prompts, out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = kill_when(out, ok_rows, target, victim)
    assert seen >= target, "the run ended before the kill point"
    assert not (out / "results.json").exists()  # a killed run never leaves finished-looking results
    recorded = {
        json.loads(r["request"])["messages"][-1]["content"]
        for r in read_ledger(out / "ledger.sqlite")
        if r["status"] == "ok"
    }
    assert len(recorded) >= target
    rerun = run_cli(*answer_args(server.url, prompts, out))
    assert rerun.returncode == 0, rerun.stderr
    stats = server.stop()

    # No call the ledger had recorded is sent again. The only calls that may be paid twice are the
    # ones in flight at the kill whose answer was on the wire but not yet committed (at most
    # --concurrency of them): see docs/reliability.md, "What a SIGKILL can cost".
    by_prompt = stats["finished_by_prompt"]
    assert all(by_prompt[p] == 1 for p in recorded)
    assert sum(n - 1 for n in by_prompt.values()) <= 4
    assert set(by_prompt) == {f"question {i}" for i in range(N_PROMPTS)}
    assert comparable(json.loads((out / "results.json").read_text())) == comparable(
        json.loads((clean_out / "results.json").read_text())
    )
    assert (out / "responses.jsonl").read_text() == (clean_out / "responses.jsonl").read_text()


@pytest.mark.parametrize(
    ("stop", "status", "said", "sigint_ignored"),
    [
        (signal.SIGINT, 130, "interrupted. Rerun the same command to resume", False),
        # `kill`, `docker stop`, a job scheduler: it killed the process at once, with no word of resuming
        (signal.SIGTERM, 143, "terminated (SIGTERM). Rerun the same command to resume", False),
        # a script's background job (`distillscope ... &`) starts with SIGINT ignored: asyncio then
        # installs no handler, and SIGTERM killed the process at once, leaving claims `pending`
        (signal.SIGTERM, 143, "terminated (SIGTERM). Rerun the same command to resume", True),
    ],
    ids=["ctrl-c", "sigterm", "sigterm-background-job"],
)
def test_ctrl_c_or_sigterm_stops_within_5_s_says_how_to_resume_and_resume_finishes(
    tmp_path: Path,
    server_process: Any,
    run_cli: Any,
    make_prompts: Any,
    ok_rows: Any,
    read_ledger: Any,
    answer_args: Any,
    stop: signal.Signals,
    status: int,
    said: str,
    sigint_ignored: bool,
) -> None:
    prompts = make_prompts(tmp_path / "p.jsonl", N_PROMPTS)
    server = server_process(latency_ms=150)
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "distillscope", *answer_args(server.url, prompts, out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
    )
    deadline = time.monotonic() + 30
    while ok_rows(out / "ledger.sqlite") < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - started < 5
    assert proc.returncode == status, err
    assert err.strip().startswith(said) and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    pending = [r for r in read_ledger(out / "ledger.sqlite") if r["status"] == "pending"]
    assert pending == []  # the calls in flight were cancelled and their claims released
    results = out / "results.json"
    assert not results.exists() or json.loads(results.read_text())["complete"] is False
    rerun = run_cli(*answer_args(server.url, prompts, out))
    assert rerun.returncode == 0, rerun.stderr
    stats = server.stop()
    assert stats["finished_twice"] <= 4  # at most the calls in flight at the signal (see docs/reliability.md)
    assert set(stats["finished_by_prompt"]) == {f"question {i}" for i in range(N_PROMPTS)}
    assert json.loads(results.read_text())["complete"] is True


def study_args(kind: str, url: str, out: Path, data: Path) -> list[str]:
    if kind == "ice-fuzz-wide":  # 13 MCTS iterations in flight at once (concurrency 8, 2 probes each)
        wide = study_args("ice-fuzz", url, out, data)
        wide[wide.index("--probes-per-mutant") + 1] = "2"
        wide[wide.index("--concurrency") + 1] = "8"
        return wide
    if kind == "ice-fuzz":  # stateful: MCTS over templates, mutator calls, seeded sampling
        return [
            "ice",
            "run",
            "--target",
            f"openai-compatible:m@{url}",
            "--target-org",
            "Zhipu AI",
            "--mode",
            "fuzz",
            "--budget",
            "60",
            "--probes-per-mutant",
            "5",
            "--seed",
            "2",
            "--concurrency",
            "4",
            "--out",
            str(out),
            "--quiet",
        ]
    return [
        "rse",
        "run",
        "--reference",
        f"openai-compatible:ref@{url}",
        "--test",
        f"openai-compatible:test@{url}",
        "--dataset",
        f"ds={data}",
        "--judge",
        f"openai-compatible:judge@{url}",
        "--concurrency",
        "4",
        "--out",
        str(out),
        "--quiet",
    ]


@pytest.mark.parametrize(("kind", "seed"), [("ice-fuzz", 6), ("ice-fuzz-wide", 8), ("rse", 7)])
def test_sigkill_during_a_study_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, server_process: Any, run_cli: Any, ok_rows: Any, read_ledger: Any, kind: str, seed: int
) -> None:
    data = tmp_path / "ds.jsonl"
    data.write_text(
        "".join(json.dumps({"id": f"p{i}", "prompt": f"Explain idea {i}."}) + "\n" for i in range(30))
    )
    server = server_process(latency_ms=15)
    clean = run_cli(*study_args(kind, server.url, tmp_path / "clean", data))
    assert clean.returncode == 0, clean.stderr
    out = tmp_path / "run"
    victim = subprocess.Popen(
        [sys.executable, "-m", "distillscope", *study_args(kind, server.url, out, data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    # the clean run filled the server's counts; the victim has its own ledger, so it calls again
    seen = kill_when(out, ok_rows, random.Random(seed).randint(5, 40), victim)
    assert seen >= 5
    recorded = {r["key"] for r in read_ledger(out / "ledger.sqlite") if r["status"] == "ok"}
    assert (
        not (out / "results.json").exists()
        or json.loads((out / "results.json").read_text())["complete"] is False
    )
    rerun = run_cli(*study_args(kind, server.url, out, data))
    assert rerun.returncode == 0, rerun.stderr
    server.stop()
    after = {r["key"]: r for r in read_ledger(out / "ledger.sqlite")}
    assert all(after[k]["attempts"] >= 1 and after[k]["status"] == "ok" for k in recorded)
    assert len(after) == len(read_ledger(tmp_path / "clean" / "ledger.sqlite"))  # the same calls, none extra
    mine, ref = (comparable(json.loads((d / "results.json").read_text())) for d in (out, tmp_path / "clean"))
    assert mine == ref
    rows_mine, rows_ref = (
        [
            {k: v for k, v in json.loads(x).items() if k != "cached"}
            for x in (d / "responses.jsonl").read_text().splitlines()
        ]
        for d in (out, tmp_path / "clean")
    )
    assert rows_mine == rows_ref


def test_ctrl_c_during_an_ice_run(tmp_path: Path, server_process: Any, ok_rows: Any) -> None:
    server = server_process(latency_ms=150)
    out = tmp_path / "ice"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distillscope",
            "ice",
            "run",
            "--target",
            f"openai-compatible:m@{server.url}",
            "--target-org",
            "Zhipu AI",
            "--mode",
            "plain",
            "--concurrency",
            "4",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while ok_rows(out / "ledger.sqlite") < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - started < 5
    assert proc.returncode == 130 and "resume" in err and "Traceback" not in err
    results = out / "results.json"
    assert not results.exists() or json.loads(results.read_text())["complete"] is False
