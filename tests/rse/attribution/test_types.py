"""`rse attribute`'s typed results: importable on their own, and loaded back with their records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
