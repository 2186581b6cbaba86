"""What every score of a results file must hold: its n, its 95% interval, and a point inside it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import distillscope as ds
from distillscope.errors import UserError

V01 = Path(__file__).parent / "data" / "v0_1"


def _edited(tmp_path: Path, run: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    folder = tmp_path / run
    shutil.copytree(V01 / run, folder)
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    edit(data)
    (folder / "results.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def _mean(**values: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["models"]["copy"]["avg"].update(values)

    return edit


def _loose(**values: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["scores"]["loose"].update(values)

    return edit


def _expected(**values: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["scores"]["loose"]["expected"] = {"rate": 0.4, "n": 12, "ci95": [0.2, 0.6], **values}

    return edit


def _matrix(**values: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data.update(values)

    return edit


FLIPPED = [[[5.0, 5.0], [9.0, -3.0], [1.0, 1.0]], [[9.0, -3.0], [5.0, 5.0], [1.0, 1.0]], [[1.0, 1.0]] * 3]
NARROW = [[[5.0, 5.0], [1.0, 2.0], [1.0, 1.0]], [[1.0, 2.0], [5.0, 5.0], [1.0, 1.0]], [[1.0, 1.0]] * 3]


@pytest.mark.parametrize(
    ("run", "edit", "field", "message"),
    [
        ("rse", _mean(score=9.0, ci95=[12.0, -3.0]), "models.copy.avg", "low end above its high end"),
        ("rse", _mean(score=4.5, ci95=[3.0, 4.2]), "models.copy.avg", "outside its 95% interval"),
        ("rse", _mean(n=-4), "models.copy.avg", "n must not be negative"),
        ("ice-run", _loose(count=50), "scores.loose", "count 50 is more than n 12"),
        ("ice-run", _loose(score=1.7, ci95=[0.2, 1.9]), "scores.loose", "outside 0 to 1"),
        ("ice-run", _loose(ci95=[0.6, 0.9]), "scores.loose", "outside its 95% interval"),
        ("ice-run", _expected(rate=1.7, ci95=[1.5, 1.9]), "scores.loose.expected", "outside 0 to 1"),
        ("ice-run", _expected(ci95=[0.6, 0.2]), "scores.loose.expected", "low end above its high end"),
        ("ice-run", _expected(rate=0.95), "scores.loose.expected", "outside its 95% interval"),
        ("ice-run", _expected(n=-3), "scores.loose.expected", "n must not be negative"),
        (
            "ice-run",
            _expected(unseen_ci95=[0.9, 0.1]),
            "scores.loose.expected",
            "unseen_ci95: .* low end above",
        ),
        (
            "ice-run",
            _expected(transfer={"logit_sd": -1.0, "models": 3}),
            "scores.loose.expected.transfer",
            "never negative",
        ),
        ("ice-run", _loose(band=[0.9, 0.1]), "scores.loose", "low end above its high end"),
        ("ice-run", _loose(band=[0.2, 1.4]), "scores.loose", "outside 0 to 1"),
        ("ice-run", _loose(n_unsure=-5), "scores.loose", "n_unsure -5 is not from 0 to n 12"),
        (
            "matrix",
            _matrix(ci95=FLIPPED),
            "ci95",
            r"cell \[0\]\[1\]: 95% interval \[9.0, -3.0\] has its low end",
        ),
        (
            "matrix",
            _matrix(aspects_ci95={"style": NARROW}),
            "aspects_ci95",
            r"aspect 'style': cell \[0\]\[1\]: "
            r"score 4.0 lies outside",
        ),
        ("matrix", _matrix(n=[[5, -4, 5]] * 3), "n", r"cell \[0\]\[1\]: n must not be negative, got -4"),
        (
            "matrix",
            _matrix(scores=[[5.0, 4.0, 1.0], [4.0, 5.0]]),
            "scores",
            "expected 3 rows, one per model, got 2",
        ),
        (
            "matrix",
            _matrix(n=[[5, 5, 5], [5], [5, 5, 5]]),
            "n",
            "row 1: expected 3 cells, one per model, got 1",
        ),
        (
            "matrix",
            _matrix(linkage=[[0.0, 1.0, -5.0, 2.0], [2.0, 3.0, 4.0, 3.0]]),
            "linkage",
            "a distance of at least 0",
        ),
        (
            "matrix",
            _matrix(linkage=[[0.0, 9.0, 1.0, 2.0], [2.0, 3.0, 4.0, 3.0]]),
            "linkage",
            "9 is not a cluster",
        ),
        ("matrix", _matrix(order=[7, 0, 1]), "order", r"each model's index \(0 to 2\) once, got \[7, 0, 1\]"),
        # similarities off the judges' 1-5 scale (a hand-edited or foreign file) were charted as they stood
        (
            "matrix",
            _matrix(scores=[[5.0, 7.5, 1.0], [7.5, 5.0, 1.0], [1.0, 1.0, 5.0]]),
            "scores",
            r"cell \[0\]\[1\]: a similarity lies on the 1-5 scale; 7.5 is outside it",
        ),
        (
            "matrix",
            _matrix(aspects={"style": [[5.0, -2.0, 1.0], [4.0, 5.0, 1.0], [1.0, 1.0, 5.0]]}),
            "aspects",
            r"aspect 'style': cell \[0\]\[1\]: .*-2.0 is outside it",
        ),
        (
            "matrix",
            _matrix(
                ci95=[
                    [[5.0, 5.0], [0.0, 4.5], [1.0, 1.0]],
                    [[3.5, 4.5], [5.0, 5.0], [1.0, 1.0]],
                    [[1.0, 1.0]] * 3,
                ]
            ),
            "ci95",
            r"cell \[0\]\[1\]: 95% interval: .*0.0 is outside it",
        ),
        (
            "rse",
            _mean(score=6.0, ci95=[5.5, 6.5]),
            "models.copy",
            r"avg: a similarity lies on the 1-5 scale; 6.0",
        ),
    ],
)
def test_hand_edited_impossible_scores_are_refused_naming_the_field(
    tmp_path: Path, run: str, edit: Callable[[dict[str, Any]], None], field: str, message: str
) -> None:
    """A results.json whose score lies outside its own interval, with an interval upside down, a
    negative n or more positives than judged was read as it stood: `report` printed
    `9.00 [12.00, -3.00] n=-4`. Such a file cannot come from a run; it is refused like a NaN.
    So is an ICE expected rate (its unseen interval, its transfer) or band, and an `rse matrix`
    file whose cells break the same rules, or whose rows, linkage or order do not fit its models: `report` printed `4.00 [9.00, -3.00]` for a cell, and a row short of a
    model or a negative linkage distance was an IndexError, ValueError or scipy traceback."""
    from distillscope.cli import _register_optional, app

    folder = _edited(tmp_path, run, edit)
    with pytest.raises(UserError, match=rf"results.json: field '{field}': .*{message}"):
        ds.load(folder)
    _register_optional()
    result = CliRunner().invoke(app, ["report", str(folder), "--out", str(tmp_path / "r.md")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"field '{field}'" in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "r.md").exists()


def test_scores_as_runs_write_them_still_load(tmp_path: Path) -> None:
    """Rounded bounds (6 decimals) and intervals of all-equal ratings ([x, x]) are not refused."""
    folder = _edited(tmp_path, "rse", _mean(score=4.0000004, ci95=[4.0, 4.0]))
    avg = ds.load(folder).models["copy"].avg  # type: ignore[attr-defined]
    assert avg.score == 4.0000004
    assert ds.load(V01 / "ice-run").scores.loose.n == 12  # type: ignore[attr-defined]
