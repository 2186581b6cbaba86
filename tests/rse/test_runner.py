"""`rse run`'s checks of its roles: foils and panel models stand for independent models."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distillscope.testing.server import OpenAIServer

from .conftest import DATA, invoke, read_results

WORDS = [f"w{i}" for i in range(40)]


def replay(path: Path, seed: int, prompts: int = 4) -> Path:
    rows = [
        {"id": f"q{i}", "response": " ".join(WORDS[(seed * 11 + i * 3 + w) % len(WORDS)] for w in range(10))}
        for i in range(prompts)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"q {i}"}) + "\n" for i in range(4)))
    out = {"prompts": prompts, **{n: replay(tmp_path / f"{n}.jsonl", k) for k, n in enumerate("rabcd")}}
    for name in ("a", "c"):  # renamed copies: another model name, the same answers
        copy = tmp_path / f"{name}-copy.jsonl"
        lines = out[name].read_text().splitlines()
        copy.write_text("\n".join(reversed(lines)) + "\n")  # rows in another order
        out[f"{name}-copy"] = copy
    return out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        # the test scored 5 against its own answers: difference -0.64 [-0.71, -0.57], exit 0
        (["--foil", "a-copy", "--foil", "c"], "foil model 'a-copy' gives the same answers as test model 'a'"),
        (
            ["--panel", "a-copy", "--panel", "c"],
            "panel model 'a-copy' gives the same answers as test model 'a'",
        ),
        (["--foil", "c", "--foil", "c-copy"], "foil model 'c-copy' gives the same answers as foil model 'c'"),
        (
            ["--panel", "c", "--panel", "c-copy"],
            "panel model 'c-copy' gives the same answers as panel model 'c'",
        ),
    ],
)
def test_a_foil_or_panel_model_giving_a_test_models_answers_is_refused(
    tmp_path: Path, files: dict[str, Path], extra: list[str], needle: str
) -> None:
    out = tmp_path / "run"
    args = [f"replay:{files[x]}" if x in files else x for x in extra]
    result = invoke(
        "rse", "run", "--reference", f"replay:{files['r']}", "--test", f"replay:{files['a']}",
        "--test", f"replay:{files['b']}", "--dataset", f"d={files['prompts']}", *args, "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert needle in lines[0] and "independent model" in lines[0]
    assert not out.exists()


def test_independent_foils_and_panel_models_still_run(tmp_path: Path, files: dict[str, Path]) -> None:
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{files['r']}", "--test", f"replay:{files['a']}",
        "--test", f"replay:{files['b']}", "--dataset", f"d={files['prompts']}", "--foil", f"replay:{files['c']}",
        "--panel", f"replay:{files['d']}", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert set(data["foils"]["models"]) == {"a", "b"} and data["contrast"] is not None


def test_foil_pairs_the_judge_left_unrated_are_counted_and_said(
    tmp_path: Path, files: dict[str, Path], openai_server: Callable[..., OpenAIServer]
) -> None:
    """A judge that rates no pair against the foil's answers: the foils' figures were n/a with
    `skipped` 0, `n_unjudged` 0 and not a word on the terminal."""
    foil_answers = {json.loads(line)["response"] for line in files["c"].read_text().splitlines()}

    def reply(body: dict[str, Any]) -> str:
        match = DATA.search(body["messages"][1]["content"])
        assert match is not None
        nonce, _question, first, _second = match.groups()
        if first in foil_answers:
            return "I would rather not say."
        return f'<verdict-{nonce}>{{"style": 3, "logic": 3, "content": 3}}</verdict-{nonce}>'

    judge = openai_server(reply)
    out = tmp_path / "run"
    result = invoke(
        "rse", "run", "--reference", f"replay:{files['r']}", "--test", f"replay:{files['a']}",
        "--test", f"replay:{files['b']}", "--dataset", f"d={files['prompts']}", "--foil", f"replay:{files['c']}",
        "--judge", f"openai-compatible:judge@{judge.url}", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = read_results(out)
    assert data["foils"]["models"]["a"]["difference"]["n"] == 0
    assert data["skipped"]["a vs foil c"] == {
        "missing": 0,
        "empty": 0,
        "filtered": 0,
        "unjudged": 4,
        "total": 4,
    }
    assert data["skipped"]["a"]["total"] == 0 and data["n_unjudged"] == 8
    shown = " ".join(result.output.split())
    assert "unjudged pairs (no rating from the judge, never scored;" in shown
    assert "a vs foil c 4, b vs foil c 4" in shown
