"""`rse attribute`'s typed results: importable on their own, and loaded back with their records."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import distillscope as ds

from .conftest import write_mt_bench


def test_the_attribution_types_import_first_in_a_fresh_interpreter() -> None:
    code = (
        "from distillscope.rse.attribution.types import AttributionResult\n"
        "print(AttributionResult.model_fields['kind'].default)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr.splitlines()[-1:]
    assert done.stdout.strip() == "attribution"


def test_an_attribution_run_loads_its_per_answer_records_as_a_frame(tmp_path: Path) -> None:
    """`ds.load(DIR).to_frame()` raised a raw TypeError on an attribution run, which has per-answer
    records (probabilities.jsonl) like every other kind."""
    folder = write_mt_bench(tmp_path / "answers", {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "t": "a"}, 6)

    def spec(name: str) -> str:
        return f"replay:{folder / name}.jsonl"

    result = ds.rse.attribute(
        [spec("t")],
        families={"a": [spec("a1"), spec("a2")], "b": [spec("b1"), spec("b2")]},
        datasets={"mt": str(folder / "question.jsonl")},
        out=tmp_path / "run",
    )
    frame = ds.load(tmp_path / "run").to_frame()
    rows = (tmp_path / "run" / "probabilities.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(frame) == len(rows) > 0 and len(result.to_frame()) == len(rows)
    assert {"model", "role", "family", "key", "probabilities.a", "probabilities.b"} <= set(frame.columns)
    assert set(frame.loc[frame["role"] == "test", "model"]) == {"t"}


def _attribution_dir(tmp_path: Path) -> Path:
    """A results.json of `rse attribute` as a run writes it: one test model, two families."""
    from distillscope.rse.attribution.types import (
        AttributionResult,
        Decision,
        FamilyProbability,
        HeldOutCheck,
        ModelAttribution,
    )

    def family(score: float) -> FamilyProbability:
        return FamilyProbability(
            score=score,
            ci95=(score - 0.1, score + 0.1),
            p_value=0.01,
            p_holm=0.02,
            lean=0.2,
            lean_ci95=(0.1, 0.3),
        )

    decision = Decision(
        distilled_from="a", p_value=0.01, n_controls=2, resembles="a", status="distilled",
        scores={"a": 0.8}, score_ci95={"a": (0.7, 0.9)}, score_n={"a": 6},
    )  # fmt: skip
    result = AttributionResult(
        families=["a", "b"],
        members={"a": ["a1"], "b": ["b1"]},
        models={
            "t": ModelAttribution(
                predicted="a",
                probabilities={"a": family(0.7), "b": family(0.3)},
                n=12,
                n_prompts=6,
                decision=decision,
            )
        },
        held_out={"a": HeldOutCheck(accuracy=0.9, mean_own_probability=0.8, n=10, ci95=(0.6, 0.98))},
    )
    out = tmp_path / "attr"
    out.mkdir()
    result.write(out)
    return out


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda d: d["models"]["t"]["probabilities"]["a"].update(ci95=[0.9, 0.1]), "models.t.probabilities.a",
         r"95% interval \[0.9, 0.1\] has its low end above its high end"),
        (lambda d: d["models"]["t"]["probabilities"]["a"].update(score=3.0, ci95=[2.9, 3.1]),
         "models.t.probabilities.a", "outside 0 to 1"),
        (lambda d: d["models"]["t"]["probabilities"]["a"].update(p_holm=-1), "models.t.probabilities.a",
         "-1.0 is outside 0 to 1"),
        (lambda d: d["models"]["t"]["probabilities"]["a"].update(lean=0.9), "models.t.probabilities.a",
         "lean_ci95: score 0.9 lies outside its 95% interval"),
        (lambda d: d["models"]["t"].update(n=-5), "models.t", "n must not be negative, got -5"),
        (lambda d: d["models"]["t"]["decision"].update(score_ci95={"a": [0.9, 0.1]}), "models.t.decision",
         r"score_ci95 of 'a': 95% interval \[0.9, 0.1\] has its low end"),
        (lambda d: d["models"]["t"]["decision"].update(p_value=2), "models.t.decision", "2.0 is outside 0 to 1"),
        (lambda d: d["held_out"]["a"].update(accuracy=0.1), "held_out.a", "score 0.1 lies outside its 95% interval"),
        (lambda d: d.update(alpha=-3), "alpha", "a significance level is above 0 and below 1, got -3.0"),
    ],
)  # fmt: skip
def test_hand_edited_impossible_attribution_figures_are_refused_naming_the_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], field: str, message: str
) -> None:
    """An `rse attribute` results.json edited into figures no run writes (a family probability of 3.0,
    an interval upside down, a p-value of 2, a negative n, an alpha of -3) was read and reported as
    it stood. It is refused like every other impossible score: exit 2, one line naming the field."""
    from distillscope.cli import _register_optional, app

    out = _attribution_dir(tmp_path)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    edit(data)
    (out / "results.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ds.UserError, match=rf"results.json: field '{field}': .*{message}"):
        ds.load(out)
    _register_optional()
    result = CliRunner().invoke(app, ["report", str(out), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and f"field '{field}'" in result.output
    assert not (tmp_path / "r.md").exists()


def test_an_attribution_as_a_run_writes_it_still_loads(tmp_path: Path) -> None:
    result = ds.load(_attribution_dir(tmp_path))
    assert result.kind == "attribution" and result.models["t"].probabilities["a"].score == 0.7  # type: ignore[attr-defined]
