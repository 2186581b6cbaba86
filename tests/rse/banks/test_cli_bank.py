"""`rse attribute --bank` end to end: the same result as the hand-written --family form, the
report of the bank, and one-line errors for bad banks."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from ..conftest import invoke, read_results
from .conftest import fastchat_to_alpaca, write_arena_hard_v2, write_fastchat

MT_BANK = ("gpt-4", "gpt-3.5-turbo", "claude-v1", "palm-2-chat-bison-001", "koala-13b")
MT_TESTS = ("vicuna-13b-v1.3", "llama-13b")
# the --family form of the bank: members in the bank's order (file order), which the fit depends on
# at the solver's tolerance
MT_FAMILIES = {
    "anthropic": ("claude-v1",),
    "google": ("palm-2-chat-bison-001",),
    "openai": ("gpt-3.5-turbo", "gpt-4"),
}


def _attribution(data: dict[str, object]) -> dict[str, object]:
    """What a decision is made of: per model, the prediction and every family's figures."""
    models = data["models"]
    assert isinstance(models, dict)
    return {m: {"predicted": r["predicted"], "probabilities": r["probabilities"]} for m, r in models.items()}


def _run(*args: str) -> None:
    result = invoke("rse", "attribute", "--quiet", *args)
    assert result.exit_code == 0, result.output


@pytest.fixture
def mt_bank(tmp_path: Path, shared_data: Path) -> Path:
    """A few MT-bench models laid out as FastChat publishes them (copied into tmp)."""
    source = shared_data / "mt-bench"
    bank = tmp_path / "mt-bench"
    (bank / "model_answer").mkdir(parents=True)
    shutil.copy(source / "question.jsonl", bank / "question.jsonl")
    for name in (*MT_BANK, *MT_TESTS):
        shutil.copy(source / "model_answer" / f"{name}.jsonl", bank / "model_answer")
    return bank


def test_mt_bench_bank_equals_the_family_form(tmp_path: Path, mt_bank: Path) -> None:
    answers = mt_bank / "model_answer"
    tests = [a for name in MT_TESTS for a in ("--test", f"replay:{answers / name}.jsonl")]
    sample = ("--sample", "20", "--seed", "2")
    _run("--bank", str(mt_bank), *tests, *sample, "--out", str(tmp_path / "bank"))
    hand = [
        a
        for f, ms in MT_FAMILIES.items()
        for m in ms
        for a in ("--family", f"{f}=replay:{answers / m}.jsonl")
    ]
    dataset = ("--dataset", f"mt-bench={mt_bank / 'question.jsonl'}")
    _run(*hand, *tests, *dataset, *sample, "--out", str(tmp_path / "hand"))
    bank, hand_made = read_results(tmp_path / "bank"), read_results(tmp_path / "hand")
    assert _attribution(bank) == _attribution(hand_made)
    assert bank["held_out_members"] == hand_made["held_out_members"]
    assert bank["families"] == ["anthropic", "google", "openai"]
    # the report of the bank: its models per family, and who was left out and why
    summary = bank["bank"]
    assert summary["layout"] == "fastchat" and summary["families"]["openai"] == ["gpt-3.5-turbo", "gpt-4"]
    left = {x["model"]: x["reason"] for x in summary["left_out"]}
    assert set(left) == {"koala-13b", "vicuna-13b-v1.3", "llama-13b"} and "test model" in left["llama-13b"]
    assert any("koala-13b" in w for w in bank["warnings"])
    report = (tmp_path / "bank" / "report.md").read_text(encoding="utf-8")
    assert "Reference bank" in report and "koala-13b" in report


def test_alpaca_bank_gives_the_same_decisions(tmp_path: Path, mt_bank: Path) -> None:
    alpaca = fastchat_to_alpaca(mt_bank, tmp_path / "alpaca")
    tests = [a for name in MT_TESTS for a in ("--test", f"replay:{alpaca / name / 'model_outputs.json'}")]
    sample = ("--sample", "40", "--seed", "2")
    _run("--bank", str(alpaca), *tests, *sample, "--out", str(tmp_path / "bank"))
    hand = [
        a
        for f, ms in MT_FAMILIES.items()
        for m in ms
        for a in ("--family", f"{f}=replay:{alpaca / m / 'model_outputs.json'}")
    ]
    prompts = tmp_path / "alpaca.jsonl"
    rows = json.loads((alpaca / "gpt-4" / "model_outputs.json").read_text(encoding="utf-8"))
    prompts.write_text(
        "".join(json.dumps({"prompt": r["instruction"]}) + "\n" for r in rows), encoding="utf-8"
    )
    _run(*hand, *tests, "--dataset", f"alpaca={prompts}", *sample, "--out", str(tmp_path / "hand"))
    bank, hand_made = read_results(tmp_path / "bank"), read_results(tmp_path / "hand")
    assert bank["bank"]["layout"] == "alpacaeval"
    assert _attribution(bank) == _attribution(hand_made)


def test_arena_hard_v2_bank_runs(tmp_path: Path) -> None:
    writers = {"gpt-4o-x": "a", "gpt-4-turbo-x": "a", "gemma-x": "b", "gemini-x": "b", "copy-of-a": "a"}
    bank = write_arena_hard_v2(tmp_path / "arena", writers, n_prompts=20)
    test = f"replay:{bank / 'model_answer' / 'copy-of-a.jsonl'}"
    _run("--bank", str(bank), "--test", test, "--out", str(tmp_path / "run"))
    data = read_results(tmp_path / "run")
    assert data["bank"]["layout"] == "arena-hard-v2" and data["families"] == ["google", "openai"]
    assert data["models"]["copy-of-a"]["predicted"] == "openai"


def _error(*args: str) -> str:
    result = invoke("rse", "attribute", "--quiet", *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_bad_banks_are_one_line_errors(tmp_path: Path) -> None:
    writers = {"gpt-4-x": "a", "claude-x": "b", "test-x": "a"}
    bank = write_fastchat(tmp_path / "bank", writers, n_prompts=4)
    test = ("--test", f"replay:{bank / 'model_answer' / 'test-x.jsonl'}")
    # a bank folder with no answers
    empty = tmp_path / "empty"
    (empty / "model_answer").mkdir(parents=True)
    shutil.copy(bank / "question.jsonl", empty)
    line = _error("--bank", str(empty), *test, "--out", str(tmp_path / "r1"))
    assert "model_answer" in line and "no model answers" in line
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    assert "no model answers" in _error("--bank", str(nothing), *test, "--out", str(tmp_path / "r1b"))
    # answers whose prompts match no question
    stray = tmp_path / "stray"
    shutil.copytree(bank, stray)
    with (stray / "model_answer" / "claude-x.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"question_id": 999, "choices": [{"turns": ["hi"]}]}) + "\n")
    line = _error("--bank", str(stray), *test, "--out", str(tmp_path / "r2"))
    assert "claude-x.jsonl:5" in line and "'claude-x'" in line and "'999'" in line
    # a manifest naming a model that is not there
    manifest = tmp_path / "bank.yaml"
    manifest.write_text("controls: [dolly-v9]\n", encoding="utf-8")
    line = _error("--bank", str(bank), "--bank-manifest", str(manifest), *test, "--out", str(tmp_path / "r3"))
    assert "bank.yaml" in line and "'dolly-v9'" in line
    # duplicate model names: FastChat files that differ only in case, AlpacaEval generators
    dup = tmp_path / "dup"
    shutil.copytree(bank, dup)
    shutil.copy(dup / "model_answer" / "claude-x.jsonl", dup / "model_answer" / "Claude-X.jsonl")
    line = _error("--bank", str(dup), *test, "--out", str(tmp_path / "r4"))
    assert "duplicate model name" in line and "claude-x" in line.lower() and ".jsonl" in line
    alpaca = fastchat_to_alpaca(bank, tmp_path / "alpaca")
    shutil.copytree(alpaca / "claude-x", alpaca / "claude-x-again")
    line = _error("--bank", str(alpaca), *test, "--out", str(tmp_path / "r5"))
    assert "duplicate model name 'claude-x'" in line and "model_outputs.json" in line
    # nothing was written as a result
    assert not any((tmp_path / r / "results.json").exists() for r in ("r1", "r2", "r3", "r4", "r5"))


def test_bank_flag_errors(tmp_path: Path) -> None:
    bank = write_fastchat(tmp_path / "bank", {"gpt-4-x": "a", "claude-x": "b"}, n_prompts=2)
    assert "leave out --dataset" in _error("--bank", str(bank), "--test", "x", "--dataset", "d=builtin")
    assert "needs --bank" in _error(
        "--bank-manifest", str(tmp_path / "m.yaml"), "--test", "x", "--family", "a=x"
    )
    if importlib.util.find_spec("datasets") is None:  # hf: banks need the optional extra, and say so
        test = f"replay:{bank / 'model_answer' / 'gpt-4-x.jsonl'}"
        line = _error("--bank", "hf:someone/outputs", "--test", test, "--out", str(tmp_path / "hf"))
        assert "datasets is not installed" in line


def test_a_test_model_that_copies_a_bank_file_is_left_out_of_the_bank(tmp_path: Path) -> None:
    writers = {"gpt-4o-x": "a", "gpt-4-turbo-x": "a", "gemma-x": "b", "gemini-x": "b"}
    bank = write_fastchat(tmp_path / "bank", writers, n_prompts=20)
    mine = tmp_path / "mine.jsonl"  # `cp model_answer/gpt-4o-x.jsonl mine.jsonl`: its own reference otherwise
    shutil.copy(bank / "model_answer" / "gpt-4o-x.jsonl", mine)
    _run("--bank", str(bank), "--test", f"replay:{mine}", "--out", str(tmp_path / "run"))
    data = read_results(tmp_path / "run")
    assert data["members"]["openai"] == ["gpt-4-turbo-x"]
    assert [x["model"] for x in data["bank"]["left_out"]] == ["gpt-4o-x"]
    assert any("since they are test models" in w and "gpt-4o-x" in w for w in data["warnings"])


def test_a_family_that_answered_other_prompts_is_warned_about(tmp_path: Path) -> None:
    writers = {"gpt-4o-x": "a", "gemma-x": "b", "copy-of-a": "a"}
    bank = write_fastchat(tmp_path / "bank", writers, n_prompts=20)
    gemma = bank / "model_answer" / "gemma-x.jsonl"
    gemma.write_text(
        "".join(gemma.read_text(encoding="utf-8").splitlines(keepends=True)[:10]), encoding="utf-8"
    )
    test = f"replay:{bank / 'model_answer' / 'copy-of-a.jsonl'}"
    _run("--bank", str(bank), "--test", test, "--out", str(tmp_path / "run"))
    warnings = read_results(tmp_path / "run")["warnings"]
    assert any(
        w.startswith("family google: none of its models answered 20 of the 40 prompt turns") for w in warnings
    )
    assert not any(w.startswith("family openai: none") for w in warnings)


def test_a_lone_manifest_control_is_named_in_the_manifest(tmp_path: Path) -> None:
    writers = {"gpt-4o-x": "a", "gemma-x": "b", "indie-x": None, "copy-of-a": "a"}
    bank = write_fastchat(tmp_path / "bank", writers, n_prompts=4)
    manifest = tmp_path / "bank.yaml"
    manifest.write_text("controls: [indie-x, indie-x]\n", encoding="utf-8")
    test = f"replay:{bank / 'model_answer' / 'copy-of-a.jsonl'}"
    line = _error(
        "--bank", str(bank), "--bank-manifest", str(manifest), "--test", test, "--out", str(tmp_path / "r")
    )
    assert line.startswith(f"error: {manifest}: field 'controls': one control (indie-x) is too few")


def test_a_bank_answer_file_with_a_question_answered_twice_is_one_line(tmp_path: Path) -> None:
    """Question 2 twice in a bank model's file, with two different answers: the run replayed the
    later one without a word (the fit then learned from whichever the file's order put last)."""
    bank = write_fastchat(tmp_path / "bank", {"gpt-4-x": "a", "claude-x": "b", "test-x": "a"}, n_prompts=4)
    answers = bank / "model_answer" / "claude-x.jsonl"
    rows = answers.read_text(encoding="utf-8").splitlines(keepends=True)
    again = json.loads(rows[1])
    again["choices"][0]["turns"][0] = {"content": "another answer altogether"}
    answers.write_text("".join(rows) + json.dumps(again) + "\n", encoding="utf-8")
    test = ("--test", f"replay:{bank / 'model_answer' / 'test-x.jsonl'}")
    line = _error("--bank", str(bank), *test, "--out", str(tmp_path / "run"))
    assert line == (
        f"error: {answers}:5: field 'question_id': id '2' has two different answers, here and at line 2: "
        "keep one answer per prompt and turn (which one was replayed depended on the order)"
    )
    assert not (tmp_path / "run" / "results.json").exists()
