"""Each published layout loads as a bank: prompts as one dataset, one model per answer file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.models.spec import build_backend
from distillscope.models.types import Message, ModelRequest
from distillscope.rse.banks import load_bank

from .conftest import fastchat_to_alpaca, write_arena_hard_v2, write_fastchat


def _replay(spec: str, prompt_id: str, text: str) -> str:
    backend = build_backend(spec)
    request = ModelRequest(messages=[Message(role="user", content=text)], prompt_id=prompt_id)
    return asyncio.run(backend.generate(request)).text


def test_fastchat_layout(tmp_path: Path) -> None:
    folder = write_fastchat(tmp_path / "mt-synth", {"gpt-4-x": "a", "claude-x": "b"}, n_prompts=6)
    bank = load_bank(str(folder))
    assert bank.layout == "fastchat" and bank.dataset.name == "mt-synth"
    assert [m.name for m in bank.models] == ["claude-x", "gpt-4-x"]
    assert len(bank.dataset.prompts) == 6 and bank.dataset.prompts[0].followups  # two turns
    assert load_bank(str(folder), sample=3, seed=1).dataset.prompts.__len__() == 3


def test_arena_hard_v2_layout_loads_and_replays(tmp_path: Path) -> None:
    folder = write_arena_hard_v2(tmp_path / "arena", {"gpt-4o-x": "a", "gemma-x": "b"}, n_prompts=5)
    bank = load_bank(str(folder))
    assert bank.layout == "arena-hard-v2" and len(bank.dataset.prompts) == 5
    prompt = bank.dataset.prompts[2]
    text = _replay(bank.models[0].spec, prompt.id, prompt.messages[-1].content)
    assert bank.models[0].name == "gemma-x" and text.startswith("Absolutely!")  # writer b


def test_alpaca_layout_nested_and_flat(tmp_path: Path) -> None:
    source = write_fastchat(tmp_path / "fc", {"gpt-4-x": "a", "claude-x": "b"}, n_prompts=4)
    nested = fastchat_to_alpaca(source, tmp_path / "alpaca")
    bank = load_bank(str(nested))
    assert bank.layout == "alpacaeval" and [m.name for m in bank.models] == ["claude-x", "gpt-4-x"]
    assert len(bank.dataset.prompts) == 4 and not bank.dataset.prompts[0].followups
    prompt = bank.dataset.prompts[1]
    assert _replay(bank.models[1].spec, prompt.id, prompt.messages[-1].content).startswith("Certainly!")
    flat = tmp_path / "flat"
    flat.mkdir()
    for model in ("gpt-4-x", "claude-x"):
        (flat / f"{model}.json").write_bytes((nested / model / "model_outputs.json").read_bytes())
    assert [m.name for m in load_bank(str(flat)).models] == ["claude-x", "gpt-4-x"]


def test_a_bank_that_is_a_symlink_loop_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    loop = tmp_path / "bank"
    loop.symlink_to(loop)
    with pytest.raises(UserError, match=r"^--bank .*bank: a symbolic link that loops or leads nowhere"):
        load_bank(str(loop))
    with pytest.raises(UserError, match=r"^--bank .*absent: no such folder$"):
        load_bank(str(tmp_path / "absent"))


def test_a_bank_name_too_long_for_the_file_system_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """`rse attribute --bank xxx...` (300 characters) raised OSError 'File name too long' from `exists()`."""
    source = str(tmp_path / ("x" * 300))
    with pytest.raises(UserError, match=r"^--bank .*x: cannot read: File name too long$"):
        load_bank(source)


def test_an_alpaca_file_naming_two_generators_is_refused(tmp_path: Path) -> None:
    rows = [
        {"instruction": "Say hi.", "output": "Hi.", "generator": "gpt-4-x"},
        {"instruction": "Say bye.", "output": "Bye.", "generator": "gpt-4-x"},
        {"instruction": "Say hi.", "output": "Hello there.", "generator": "claude-x"},
    ]
    (tmp_path / "all.json").write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(UserError, match=r"all.json item 2: field 'generator': generator 'claude-x' differs"):
        load_bank(str(tmp_path))
    del rows[0]["generator"]
    (tmp_path / "all.json").write_text(json.dumps(rows[:2]), encoding="utf-8")
    with pytest.raises(
        UserError, match=r"item 1: field 'generator': generator 'gpt-4-x' differs from no generator"
    ):
        load_bank(str(tmp_path))


def test_answer_files_with_an_upper_case_suffix_are_models_of_the_bank(tmp_path: Path) -> None:
    folder = write_fastchat(tmp_path / "mt-synth", {"gpt-4-x": "a", "claude-x": "b"}, n_prompts=4)
    (folder / "model_answer" / "claude-x.jsonl").rename(folder / "model_answer" / "claude-x.JSONL")
    bank = load_bank(str(folder))
    assert [m.name for m in bank.models] == ["claude-x", "gpt-4-x"]  # claude-x was left out silently
    prompt = bank.dataset.prompts[0]
    assert _replay(bank.models[0].spec, prompt.id, prompt.messages[-1].content).startswith("Absolutely!")


def test_an_alpaca_folder_reads_flat_files_beside_nested_ones(tmp_path: Path) -> None:
    source = write_fastchat(tmp_path / "fc", {"gpt-4-x": "a", "claude-x": "b", "llama-x": None}, n_prompts=4)
    folder = fastchat_to_alpaca(source, tmp_path / "alpaca")
    (folder / "llama-x" / "model_outputs.json").rename(folder / "llama-x.JSON")
    (folder / "llama-x").rmdir()
    # llama-x.JSON was hidden by the nested files
    assert [m.name for m in load_bank(str(folder)).models] == ["claude-x", "gpt-4-x", "llama-x"]


def test_a_bank_answer_file_with_ids_written_as_floats_is_read(tmp_path: Path) -> None:
    """A bank model's file with `"question_id": 1.0` was refused: it answered question '1.0', not in the bank."""
    folder = write_fastchat(tmp_path / "mt-synth", {"gpt-4-x": "a", "claude-x": "b"}, n_prompts=4)
    path = folder / "model_answer" / "claude-x.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("".join(json.dumps(r | {"question_id": float(r["question_id"])}) + "\n" for r in rows))
    bank = load_bank(str(folder))
    prompt = bank.dataset.prompts[0]
    assert _replay(bank.models[0].spec, prompt.id, prompt.messages[-1].content).startswith("Absolutely!")
