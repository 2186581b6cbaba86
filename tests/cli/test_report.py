"""`compare` (cli/report.py) given RSE runs that stopped early."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from distillscope.cli import _register_optional, app

_register_optional()


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def rse_run(tmp_path: Path, name: str, *extra: str) -> Path:
    """An offline `rse run` on replay files (answers that differ from the reference's)."""
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"q {i}"}) + "\n" for i in range(4)))
    for model, words in (("ref", "alpha beta gamma delta"), ("a", "alpha beta zeta eta theta")):
        rows = [{"id": f"q{i}", "response": f"{words} {i}"} for i in range(4)]
        (tmp_path / f"{model}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / name
    code, _, err = invoke(
        "rse", "run", "--reference", f"replay:{tmp_path / 'ref.jsonl'}", "--test", f"replay:{tmp_path / 'a.jsonl'}",
        "--dataset", f"d={prompts}", "--out", str(out), "--quiet", *extra,
    )  # fmt: skip
    assert code == 0, err
    return out


def test_compare_says_which_rse_runs_stopped_early(tmp_path: Path) -> None:
    done = rse_run(tmp_path, "done")
    stopped = rse_run(tmp_path, "stopped", "--max-calls", "3")
    assert json.loads((stopped / "results.json").read_text())["complete"] is False
    # the stopped run was left out of every table without a word
    code, out, err = invoke("compare", str(done), str(stopped))
    assert code == 0
    assert "RSE average vs ref" in out and str(stopped) not in out
    note = " ".join(err.split())
    assert (
        f"note: {stopped} stopped early (call budget of 3 reached): its scores cover only what was done"
        in note
    )
    assert str(done) not in err
    # alone it had "no scores in these runs (a matrix run has no ranking ...)", and no matrix was given
    code, out, err = invoke("compare", str(stopped))
    assert code == 0 and out.strip() == "no scores in these runs"
    assert "stopped early" in err
