"""Two processes sharing one `--cache` ledger, and a disk that fills up mid-run."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

N = 60


def test_two_processes_sharing_a_ledger_send_each_call_once(
    tmp_path: Path, server_process: Any, make_prompts: Any, read_ledger: Any, answer_args: Any
) -> None:
    prompts = make_prompts(tmp_path / "p.jsonl", N)
    server = server_process(latency_ms=40)
    cache = tmp_path / "shared.sqlite"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distillscope",
                *answer_args(server.url, prompts, tmp_path / f"run{i}", concurrency=6),
                "--cache",
                str(cache),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    stats = server.stop()
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    assert stats["finished_twice"] == 0 and stats["finished"] == N  # each call paid for once
    rows = read_ledger(cache)  # integrity_check passes
    assert len(rows) == N and {r["status"] for r in rows} == {"ok"}
    assert len({r["key"] for r in rows}) == N
    first, second = ((tmp_path / f"run{i}" / "responses.jsonl").read_text() for i in range(2))
    assert first == second
    assert [json.loads(line)["response"] for line in first.splitlines()] == [
        f"echo: question {i}" for i in range(N)
    ]


@contextlib.contextmanager
def tiny_filesystem(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (needs root and mount rights; skips otherwise)."""
    where.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", f"ds-test-{uuid.uuid4().hex[:6]}", str(where)],
            capture_output=True,
            text=True,
        )
        if shutil.which("mount")
        else None
    )
    if mounted is None or mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip() if mounted else 'no mount'}"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_is_one_clear_line_and_the_ledger_stays_readable(
    tmp_path: Path, openai_server: Any, run_cli: Any, read_ledger: Any
) -> None:
    server = openai_server()
    prompts = tmp_path / "p.jsonl"
    # long prompts echoed back: each ledger row holds ~8 kB of request and ~8 kB of answer
    prompts.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"{i} " + "x" * 8000}) + "\n" for i in range(200))
    )
    with tiny_filesystem(tmp_path / "disk", "640k") as disk:
        out = disk / "run"
        result = run_cli(
            "models",
            "answer",
            f"openai-compatible:m@{server.url}",
            "--prompts",
            str(prompts),
            "--out",
            str(out),
            "--concurrency",
            "4",
            "--quiet",
        )
        assert result.returncode == 2, (result.returncode, result.stderr)
        assert "disk full" in result.stderr or "No space left" in result.stderr
        assert (
            len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr + result.stdout
        )
        assert not (out / "results.json").exists()
        snapshot = tmp_path / "copy"  # read the ledger as it was left, from a disk with room
        shutil.copytree(out, snapshot)
    rows = read_ledger(snapshot / "ledger.sqlite")
    done = [r for r in rows if r["status"] == "ok"]
    assert 0 < len(done) < 200
    assert all(r["response"] == f"echo: {json.loads(r['request'])['messages'][-1]['content']}" for r in done)
    # with room again, rerunning from that directory finishes and sends only the missing calls
    before = server.stats()["finished"]
    rerun = run_cli(
        "models",
        "answer",
        f"openai-compatible:m@{server.url}",
        "--prompts",
        str(prompts),
        "--out",
        str(snapshot),
        "--quiet",
    )
    assert rerun.returncode == 0, rerun.stderr
    assert server.stats()["finished"] - before <= 200 - len(done)
    assert json.loads((snapshot / "results.json").read_text())["complete"] is True
