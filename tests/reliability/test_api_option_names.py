"""An error names a setting the way its caller gave it: the CLI's flag (`--sample`, `--cache`) on
the command line, the keyword argument (`sample=`, `cache=`) through the Python API, whose user
never typed a flag. Checks deep in the library (the cross-fit, the ledger, the probes) named the
CLI's flags to both."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import distillscope as ds
import distillscope.cli as cli_module
from distillscope.engine.ledger import APPLICATION_ID, SCHEMA_VERSION
from distillscope.errors import UserError

from ..rse.attribution.conftest import write_mt_bench

WRITERS = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "copycat": "a"}


def _cli_error(*args: object) -> str:
    """The one line a refused command prints (exit 2, no traceback)."""
    if not any(c.name == "study" for c in cli_module.app.registered_commands):
        cli_module._register_optional()
    result = CliRunner().invoke(cli_module.app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def _one_prompt_attribution(tmp_path: Path) -> tuple[list[str], dict[str, Any]]:
    """(CLI arguments, API keywords) of an attribution on two prompts where family b answered only
    the first: the fold that holds it out has no training answers of b."""
    folder = write_mt_bench(tmp_path / "answers", WRITERS, n_prompts=2)
    for name in ("b1", "b2"):
        answers = folder / f"{name}.jsonl"
        answers.write_text(answers.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")

    def spec(name: str) -> str:
        return f"replay:{folder / name}.jsonl"

    args = [
        "rse", "attribute", "--quiet", "--test", spec("copycat"),
        "--family", f"a={spec('a1')}", "--family", f"a={spec('a2')}",
        "--family", f"b={spec('b1')}", "--family", f"b={spec('b2')}",
        "--dataset", f"mt={folder / 'question.jsonl'}", "--out", str(tmp_path / "cli"),
    ]  # fmt: skip
    keywords = {
        "tests": [spec("copycat")],
        "families": {"a": [spec("a1"), spec("a2")], "b": [spec("b1"), spec("b2")]},
        "datasets": {"mt": str(folder / "question.jsonl")},
        "out": tmp_path / "api",
    }
    return args, keywords


def test_too_few_prompts_to_cross_fit_names_sample_as_the_api_takes_it(tmp_path: Path) -> None:
    _, keywords = _one_prompt_attribution(tmp_path)
    with pytest.raises(UserError) as caught:
        ds.rse.attribute(**keywords)
    assert "too few prompts to cross-fit" in str(caught.value)
    assert str(caught.value).endswith("use more prompts (sample=)"), caught.value
    assert "--" not in str(caught.value)


def test_too_few_prompts_to_cross_fit_names_the_sample_flag_on_the_cli(tmp_path: Path) -> None:
    args, _ = _one_prompt_attribution(tmp_path)
    line = _cli_error(*args)
    assert "too few prompts to cross-fit" in line and line.endswith("use more prompts (--sample)"), line


def _newer_ledger(path: Path) -> Path:
    """A ledger written by a later distillscope (a schema this one cannot read)."""
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    return path


def test_a_newer_shared_ledger_names_cache_as_the_api_takes_it(tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "q0", "prompt": "hi"}\n', encoding="utf-8")
    ledger = _newer_ledger(tmp_path / "shared.sqlite")
    with pytest.raises(UserError) as caught:
        ds.models.answer(
            "openai-compatible:m@http://127.0.0.1:9", prompts, out=tmp_path / "api", cache=ledger
        )
    message = str(caught.value)
    assert "written by a newer distillscope" in message and message.endswith("use another cache="), message


def test_a_newer_shared_ledger_names_the_cache_flag_on_the_cli(tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "q0", "prompt": "hi"}\n', encoding="utf-8")
    ledger = _newer_ledger(tmp_path / "shared.sqlite")
    line = _cli_error(
        "models", "answer", "openai-compatible:m@http://127.0.0.1:9", "--prompts", prompts,
        "--out", tmp_path / "cli", "--cache", ledger, "--quiet",
    )  # fmt: skip
    assert "written by a newer distillscope" in line and line.endswith("use another --cache"), line


def test_ice_languages_without_probes_names_the_setting_as_the_api_takes_it(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        ds.ice.run("openai-compatible:m@http://127.0.0.1:9", languages=["xx"], out=tmp_path / "o")
    assert str(caught.value).startswith("languages=: no probe in those languages (xx; have: "), caught.value


def test_an_unknown_model_spec_names_the_models_file_as_each_caller_gives_it(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        ds.ice.run("bogus:x", out=tmp_path / "api")
    assert str(caught.value).endswith("replay:PATH, or a name from config="), caught.value
    line = _cli_error("ice", "run", "--target", "bogus:x", "--out", tmp_path / "cli", "-q")
    assert line.endswith("replay:PATH, or a name from --config"), line
    assert not (tmp_path / "api").exists() and not (tmp_path / "cli").exists()
