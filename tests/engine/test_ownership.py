"""Directory ownership (src/distillscope/engine/ownership.py): a study claims its directory by the
config.json there, read by the one reader of input files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import distillscope.cli as cli_module

cli_module._register_optional()


def _study(tmp_path: Path) -> Path:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        json.dumps({"prompt": "Who made you?", "response": "I am GLM."}) + "\n", encoding="utf-8"
    )
    study = tmp_path / "study.yaml"
    study.write_text(
        "models:\n"
        '  a: {spec: "replay:answers.jsonl", identity: {organisation: Zhipu AI}}\n'
        "targets: [a]\n"
        "ice: {mode: grid, budget: 2, judge: rules}\n",
        encoding="utf-8",
    )
    return study


def _plant(config: Path, kind: str) -> None:
    if kind == "deep":
        config.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    elif kind == "fifo":
        os.mkfifo(config)
    else:
        config.write_text("{\n  'command': 'study'\n}\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("deep", "config.json: nested more than 100 levels deep"),
        ("fifo", "config.json: not a regular file"),
        ("not json", "config.json:2: invalid JSON"),
    ],
)
def test_a_study_directory_whose_config_json_is_unreadable_is_refused_naming_why(
    tmp_path: Path, kind: str, why: str
) -> None:
    """config.json was read with a bare `json.loads`: nested 100,000 deep it was a RecursionError
    traceback, and a FIFO planted there hung `distillscope study` for ever. It is refused in one
    line that says why, and nothing is written into the directory."""
    out = tmp_path / "run"
    out.mkdir()
    _plant(out / "config.json", kind)
    result = CliRunner().invoke(cli_module.app, ["study", str(_study(tmp_path)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {out / why}"), lines
    assert "so the run there cannot be checked; choose another --out for the study" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]  # not even the refused study's lock


@pytest.mark.parametrize("name", ["report.md", "report.html"])
def test_a_study_never_takes_over_a_folder_holding_a_users_file_of_a_name_a_run_writes(
    tmp_path: Path, name: str
) -> None:
    """A folder with the user's own report.md and no config.json was taken as a new study
    directory, and the study wrote its report over the user's file, exit 0 (every other command
    refuses such a folder: `RunContext`). It is refused in one line, the file unchanged."""
    out = tmp_path / "notes"
    out.mkdir()
    (out / name).write_text("my own notes\n", encoding="utf-8")
    result = CliRunner().invoke(cli_module.app, ["study", str(_study(tmp_path)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: {out}: holds {name} but no config.json (not a distillscope run directory), and a study "
        "there would write over it; choose another --out for the study, or move the file away"
    ]
    assert sorted(p.name for p in out.iterdir()) == [name]
    assert (out / name).read_text(encoding="utf-8") == "my own notes\n"
    rerun = tmp_path / "study-dir"  # a study's own directory resumes, its reports written over
    assert (
        CliRunner().invoke(cli_module.app, ["study", str(_study(tmp_path)), "--out", str(rerun)]).exit_code
        == 0
    )
    again = CliRunner().invoke(cli_module.app, ["study", str(_study(tmp_path)), "--out", str(rerun)])
    assert again.exit_code == 0, again.output
