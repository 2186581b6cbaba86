"""`--bank` through the Python API and a study file's `attribution:` section."""

from __future__ import annotations

from pathlib import Path

import distillscope as ds

from ..conftest import invoke, read_results
from .conftest import write_fastchat

WRITERS = {"gpt-4-x": "a", "gpt-3.5-x": "a", "claude-x": "b", "claude-2-x": "b", "copy-of-a": "a"}


def test_api_bank(tmp_path: Path) -> None:
    bank = write_fastchat(tmp_path / "bank", WRITERS, n_prompts=15)
    test = f"replay:{bank / 'model_answer' / 'copy-of-a.jsonl'}"
    result = ds.rse.attribute([test], bank=bank, out=tmp_path / "run", seed=1)
    assert result.bank is not None and result.bank.families == {
        "anthropic": ["claude-2-x", "claude-x"],
        "openai": ["gpt-3.5-x", "gpt-4-x"],
    }
    assert result.models["copy-of-a"].predicted == "openai"
    assert (tmp_path / "run" / "ledger.features.sqlite").exists()  # features kept beside the ledger


def test_study_attribute_section_with_a_bank(tmp_path: Path) -> None:
    bank = write_fastchat(tmp_path / "bank", WRITERS, n_prompts=15)
    (tmp_path / "bank.yaml").write_text("leave_out: [claude-2-x]\n", encoding="utf-8")
    study = tmp_path / "study.yaml"
    study.write_text(
        f"""models:
  copycat: {{spec: "replay:{bank / "model_answer" / "copy-of-a.jsonl"}"}}
targets: [copycat]
ice: null
attribution: {{bank: bank, bank_manifest: bank.yaml, seed: 1}}
""",
        encoding="utf-8",
    )
    result = invoke("study", study, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    data = read_results(tmp_path / "out")
    assert data["attribution_dir"] == "attribution"
    assert data["targets"]["copycat"]["attribution"]["predicted"] == "openai"
    left = {x["model"]: x["reason"] for x in data["attribution"]["bank"]["left_out"]}
    # the target replays a bank model's own file: that model is left out of the bank
    assert set(left) == {"claude-2-x", "copy-of-a"} and "test model" in left["copy-of-a"]
