"""`distillscope models check` and `models answer` as a user runs them (subprocesses): what reaches
the terminal, and setup mistakes that are one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

KEY = "sk-canary-CHECK-7d1e5f9a3b"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "80", **(env or {})}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"):
        if name not in (env or {}):
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "distillscope", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )


def test_models_check_masks_a_key_the_server_quotes_in_its_answer(openai_server: Any, tmp_path: Path) -> None:
    """A server that answers the check with our key (`your header: Bearer sk-...`) had it printed in
    the table whole: the check's answer was shown as it came, while a run's answers are masked."""
    server = openai_server(reply=lambda body: f"your header: Bearer {KEY}, and once more: {KEY[3:]}")
    config = tmp_path / "m.yaml"
    config.write_text(
        f"models:\n  m:\n    model: m\n    url: {server.url}\n    api_key_env: CHECK_KEY\n", "utf-8"
    )
    result = cli("models", "check", "m", "--config", str(config), env={"CHECK_KEY": KEY, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert server.headers_seen[0]["Authorization"] == f"Bearer {KEY}"  # the key was sent
    printed = result.stdout + result.stderr
    assert "your header: Bearer ***" in printed
    assert not any(KEY[i : i + 8] in printed for i in range(len(KEY) - 7))


def test_models_check_shows_every_spec_whole_on_a_narrow_terminal(openai_server: Any) -> None:
    """Two replicas differing in their port were both shown as `openai-compatible:m@http:/…` at 80
    columns (a pipe, CI), so the row that failed could not be told from the one that answered."""
    server = openai_server()
    closed = "openai-compatible:m@http://127.0.0.1:9/v1"
    good = f"openai-compatible:m@{server.url}"
    result = cli("models", "check", good, closed)
    assert result.returncode == 1, result.stderr
    rows: list[tuple[str, str]] = []  # (model column folded back together, status)
    for line in result.stdout.splitlines():
        cells = line.split("│")
        if len(cells) < 4:
            continue
        model, status = cells[1].strip(), cells[2].strip()
        if status:
            rows.append((model, status))
        elif rows:
            rows[-1] = (rows[-1][0] + model, rows[-1][1])
    assert rows == [(good, "ok"), (closed, "failed")]


def test_a_proxy_variable_that_is_no_url_is_one_line_and_leaves_no_run(tmp_path: Path) -> None:
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    out = tmp_path / "run"
    env = {"HTTPS_PROXY": "http://user:proxy-pass-1234@proxy:99999"}
    spec = "openai-compatible:m@https://example.invalid/v1"
    result = cli("models", "answer", spec, "-p", str(prompts), "-o", str(out), "-q", env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "HTTPS_PROXY" in lines[0] and "Traceback" not in result.stderr
    assert "proxy-pass" not in result.stderr + result.stdout
    assert not out.exists()
    check = cli("models", "check", spec, env=env)
    assert check.returncode == 2 and "HTTPS_PROXY" in check.stderr and "Traceback" not in check.stderr


def test_a_placeholder_key_variable_leaves_the_answers_as_they_were(
    openai_server: Any, tmp_path: Path
) -> None:
    """With llama.cpp's placeholder `OPENAI_API_KEY=sk-no-key-required` set, every answer holding
    "required" reached the ledger and responses.jsonl as `***`, exit 0."""
    server = openai_server()
    prompts = tmp_path / "p.txt"
    prompts.write_text("Which fields are required?\nIs the key sk-no-key-required?\n", encoding="utf-8")
    out = tmp_path / "run"
    result = cli(
        "models", "answer", f"openai-compatible:m@{server.url}", "-p", str(prompts), "-o", str(out), "-q",
        env={"OPENAI_API_KEY": "sk-no-key-required"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "responses.jsonl").read_text("utf-8").splitlines()]
    assert [r["response"] for r in rows] == ["echo: Which fields are required?", "echo: Is the key ***?"]


def test_a_blank_system_prompt_flag_is_refused_and_an_empty_one_is_set_in_the_config(
    openai_server: Any, tmp_path: Path
) -> None:
    """`--system-prompt "$SYS"` with SYS unset sent `{"role": "system", "content": ""}`, exit 0: not
    "no system prompt" (a template such as Qwen's then drops the model's own identity prompt)."""
    server = openai_server()
    prompts = tmp_path / "p.txt"
    prompts.write_text("who are you?\n", encoding="utf-8")
    spec = f"openai-compatible:m@{server.url}"
    for given in (["--system-prompt", ""], ["--system-prompt= "], ["--system-prompt", "\u200b"]):
        out = tmp_path / "blank"
        result = cli("models", "answer", spec, "-p", str(prompts), "-o", str(out), "-q", *given)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert (
            len(lines) == 1 and lines[0].startswith("error: --system-prompt: ") and "no visible" in lines[0]
        )
        assert not out.exists()
    assert server.stats()["requests"] == 0
    config = tmp_path / "m.yaml"  # an empty system message on purpose: said in the config
    config.write_text(f'models:\n  m:\n    spec: {spec}\n    system_prompt: ""\n', encoding="utf-8")
    result = cli(
        "models", "answer", "m", "-c", str(config), "-p", str(prompts), "-o", str(tmp_path / "r"), "-q"
    )
    assert result.returncode == 0, result.stderr
    assert server.bodies[0]["messages"][0] == {"role": "system", "content": ""}


def test_force_never_deletes_the_file_the_run_reads(openai_server: Any, tmp_path: Path) -> None:
    """`models answer ... -p DIR/responses.jsonl -o DIR --force` (or `replay:DIR/responses.jsonl`)
    removed the last run's responses.jsonl as --force does, then failed `file not found`: the
    answers the user meant to read were gone, and the run's results.json and config.json with them."""
    server = openai_server()
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\nwho are you?\n", encoding="utf-8")
    run = tmp_path / "run"
    spec = f"openai-compatible:m@{server.url}"
    assert cli("models", "answer", spec, "-p", str(prompts), "-o", str(run), "-q").returncode == 0
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    answers = run / "responses.jsonl"
    for args in ([spec, "-p", str(answers)], [f"replay:{answers}", "-p", str(prompts)]):
        result = cli("models", "answer", *args, "-o", str(run), "-q", "--force")
        assert result.returncode == 2, result.stdout + result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "responses.jsonl: is a file this run reads" in lines[0]
        assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    from distillscope._api import models_answer  # the Python API: the same refusal, in its words
    from distillscope.errors import UserError

    with pytest.raises(
        UserError, match=r"responses\.jsonl: is a file this run reads \(prompts=\), and force=True"
    ):
        models_answer(spec, answers, out=run, force=True)
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    # the same files elsewhere: --force starts the run afresh as before
    copy = tmp_path / "answers.jsonl"
    copy.write_bytes(answers.read_bytes())
    result = cli("models", "answer", spec, "-p", str(copy), "-o", str(run), "-q", "--force")
    assert result.returncode == 0, result.stderr
