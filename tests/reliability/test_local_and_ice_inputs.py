"""Hostile settings and files for local GGUF models (`local:PATH.gguf`, `local:smollm2`) and their
config: each is exit 2 with one line naming the file, line and field, before a run directory is
made, or an answer as good as with sane settings. The CLI runs as a real process (a llama.cpp abort
would kill it); the embedded model answers a few tokens at most."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest


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


def _answers(run: Path) -> list[dict[str, Any]]:
    lines = (run / "responses.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real GGUF with no chat template: the embedded model with its `tokenizer.chat_template` key
    renamed in place (same length, so the file stays valid), as a base model's file is."""
    from distillscope.models.local import embedded_model_path

    data = bytearray(embedded_model_path().read_bytes())
    at = data.find(b"tokenizer.chat_template")
    assert at > 0
    data[at : at + 23] = b"tokenizer.chat_templatX"
    path = tmp_path_factory.mktemp("gguf") / "base-model.gguf"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.local_model
def test_a_gguf_without_a_chat_template_is_refused_in_chat_form(
    tmp_path: Path, run_cli: Any, base_model: Path
) -> None:
    """A base model (no chat template) was asked in chat form: llama-cpp-python fell back to
    Llama-2's format without a word, and the answers were empty or noise, exit 0. Now exit 2 before
    anything is created, saying to use `api: completions`, which answers."""
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a colour.\n", encoding="utf-8")
    out = tmp_path / "chat"
    done = run_cli("models", "answer", f"local:{base_model}", "-p", str(prompts), "--out", str(out), "-q")
    _refused(done, out, "base-model.gguf has no chat template", "api: completions")
    config = tmp_path / "m.yaml"
    config.write_text(f"models:\n  b:\n    kind: local\n    model: {base_model}\n    api: completions\n")
    out = tmp_path / "completions"
    done = run_cli("models", "answer", "b", "-c", str(config), "-p", str(prompts), "--out", str(out), "-q",
                   "--max-tokens", "3")  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert [a["error"] for a in _answers(out)] == [None]


@pytest.mark.local_model
@pytest.mark.parametrize(
    ("name", "body", "needle"),
    [
        ("truncated.gguf", None, "truncated.gguf: cannot load GGUF model"),
        ("m.yaml", "    n_ctx: 100000000\n", "n_ctx 100,000,000 is more than the 8,192 tokens"),
        ("m.yaml", "    n_ctx: -1\n", "m.yaml:5: field 'models.m.n_ctx'"),
    ],
)
def test_a_broken_gguf_or_an_impossible_n_ctx_is_refused_before_the_run(
    tmp_path: Path, run_cli: Any, name: str, body: str | None, needle: str
) -> None:
    """A truncated GGUF and an `n_ctx` past the trained context failed only at the first call,
    after the run directory was made (an n_ctx of a few million made llama.cpp try to allocate
    gigabytes); a negative n_ctx failed in llama.cpp. Each is now exit 2 with nothing created."""
    from distillscope.models.local import embedded_model_path

    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a colour.\n", encoding="utf-8")
    out = tmp_path / "run"
    if body is None:
        gguf = tmp_path / name
        with embedded_model_path().open("rb") as fh:
            gguf.write_bytes(fh.read(1_000_000))
        spec = [f"local:{gguf}"]
    else:
        spec = ["m", "-c", str(_config(tmp_path / name, body))]
    done = run_cli(
        "models", "answer", *spec, "-p", str(prompts), "--out", str(out), "-q", "--max-tokens", "2"
    )
    _refused(done, out, needle)


@pytest.mark.local_model
def test_an_n_ctx_that_llama_cpp_rounds_up_answers_as_the_rounded_context(
    tmp_path: Path, run_cli: Any
) -> None:
    """llama.cpp rounds a context up to 256 tokens while llama-cpp-python sized its token buffer by
    the number asked: with `n_ctx: 300` a prompt of about 380 tokens failed ("could not broadcast
    input array"), with `n_ctx: 16` even a short one. Both now answer, as the rounded context does."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        json.dumps({"id": "short", "prompt": "Name a colour."}) + "\n"
        + json.dumps({"id": "long", "prompt": "word " * 380}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    answers = {}
    for n_ctx in (16, 300):
        out = tmp_path / f"ctx{n_ctx}"
        config = _config(tmp_path / f"m{n_ctx}.yaml", f"    n_ctx: {n_ctx}\n")
        done = run_cli("models", "answer", "m", "-c", str(config), "-p", str(prompts), "--out", str(out), "-q",
                       "--max-tokens", "3")  # fmt: skip
        rows = {a["id"]: a for a in _answers(out)}
        answers[n_ctx] = rows
        if n_ctx == 16:  # 256 tokens: the short prompt fits, the long one does not
            assert done.returncode == 0 and rows["short"]["error"] is None, rows
            failed = json.loads((out / "results.json").read_text(encoding="utf-8"))["failed"]
            assert [f["id"] for f in failed] == ["long"] and "context window of 256" in failed[0]["error"]
        else:  # 512 tokens: both fit
            assert done.returncode == 0 and done.stderr == "", done.stderr
            assert [rows[i]["error"] for i in ("short", "long")] == [None, None], rows
    assert answers[16]["short"]["response"] == answers[300]["short"]["response"]
