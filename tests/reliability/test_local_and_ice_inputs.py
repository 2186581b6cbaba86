"""Hostile settings and files for local GGUF models (`local:PATH.gguf`, `local:smollm2`) and their
config: each is exit 2 with one line naming the file, line and field, before a run directory is
made, or an answer as good as with sane settings. The CLI runs as a real process (a llama.cpp abort
would kill it); the embedded model answers a few tokens at most."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def _config(path: Path, body: str) -> Path:
    path.write_text("models:\n  m:\n    kind: local\n    model: smollm2\n" + body, encoding="utf-8")
    return path


def _refused(done: subprocess.CompletedProcess[str], out: Path, *needles: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not out.exists()


def test_an_empty_stop_string_is_refused_at_its_line(tmp_path: Path, run_cli: Any) -> None:
    """`stop: ['']` made llama.cpp stop before the first token: every answer came back empty (exit 0,
    counted as the model's own empty replies, which a rerun does not ask again)."""
    config = _config(tmp_path / "m.yaml", "    params:\n      max_tokens: 4\n      stop: ['\\n', '']\n")
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a colour.\n", encoding="utf-8")
    out = tmp_path / "run"
    done = run_cli("models", "answer", "m", "-c", str(config), "-p", str(prompts), "--out", str(out), "-q")
    _refused(done, out, "m.yaml:7: field 'models.m.params.stop'", "empty stop string")


def test_a_blank_declared_identity_is_refused_at_its_line(tmp_path: Path, run_cli: Any) -> None:
    """`identity: {organisation: "   "}` was taken as the target's maker: `ice run` judged against a
    blank organisation (the real maker's name became a contradiction) and reported "developed by
    ". A blank organisation or family is now exit 2 at its line, before anything is created."""
    for n, identity in enumerate(['{organisation: "   "}', '{organisation: Zhipu AI, family: ""}']):
        config = tmp_path / f"c{n}.yaml"
        config.write_text(
            f"models:\n  t:\n    spec: openai-compatible:m@http://127.0.0.1:9/v1\n    identity: {identity}\n",
            encoding="utf-8",
        )
        out = tmp_path / f"run{n}"
        done = run_cli(
            "ice", "run", "--target", "t", "-c", str(config), "--mode", "plain", "--out", str(out), "-q"
        )
        field = "organisation" if n == 0 else "family"
        _refused(done, out, f"c{n}.yaml:4: field 'models.t.identity.{field}': is blank")
