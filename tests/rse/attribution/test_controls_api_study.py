"""`--control` through the Python API and in a study file; the distillation verdict in the study
report and in `distillscope compare`."""

from __future__ import annotations

from pathlib import Path

import distillscope as ds

from ..conftest import invoke
from .conftest import write_mt_bench

WRITERS = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "copycat": "a"}
CONTROLS = [f"independent{i}" for i in range(4)]


def test_api_attribute_with_controls(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", WRITERS | dict.fromkeys(CONTROLS), n_prompts=20)

    def spec(name: str) -> str:
        return f"replay:{folder / name}.jsonl"

    result = ds.rse.attribute(
        [spec("copycat")],
        families={"a": [spec("a1"), spec("a2")], "b": [spec("b1"), spec("b2")]},
        datasets={"mt": str(folder / "question.jsonl")},
        controls=[spec(c) for c in CONTROLS],
        out=tmp_path / "run",
        seed=2,
    )
    decision = result.models["copycat"].decision
    assert decision is not None and decision.distilled_from == "a" and decision.n_controls == 4
    assert set(result.controls) == set(CONTROLS)
    assert all(c.decision is not None and c.decision.n_controls == 3 for c in result.controls.values())
    assert (tmp_path / "run" / "report.html").is_file()


def test_study_with_an_attribution_section_shows_the_verdict(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", WRITERS | dict.fromkeys(CONTROLS), n_prompts=20)
    models = "".join(f'  {m}: {{spec: "replay:{folder / m}.jsonl"}}\n' for m in [*WRITERS, *CONTROLS])
    study = tmp_path / "study.yaml"
    study.write_text(
        f"models:\n{models}targets: [copycat]\nice: null\n"
        "attribution:\n  families: {a: [a1, a2], b: [b1, b2]}\n"
        f"  controls: [{', '.join(CONTROLS)}]\n  datasets: {{mt: answers/question.jsonl}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "study"
    result = ds.study(study, out=out)
    entry = result.targets["copycat"].attribution
    assert entry is not None and entry.decision is not None and entry.decision.distilled_from == "a"
    assert result.attribution is not None and result.attribution_dir == "attribution"
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Distillation verdict" in markdown and "distilled from a (p = " in markdown
    assert "4 controls;" in markdown
    shown = invoke("compare", str(out / "attribution"))
    assert shown.exit_code == 0 and "Distillation verdict" in shown.output
    assert "copycat" in shown.output


def test_study_attribution_naming_an_undefined_control_is_refused(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", WRITERS, n_prompts=4)
    models = "".join(f'  {m}: {{spec: "replay:{folder / m}.jsonl"}}\n' for m in WRITERS)
    study = tmp_path / "study.yaml"
    study.write_text(
        f"models:\n{models}targets: [copycat]\nice: null\n"
        "attribution:\n  families: {a: [a1, a2], b: [b1, b2]}\n  controls: [nobody, a1]\n"
        "  datasets: {mt: answers/question.jsonl}\n",
        encoding="utf-8",
    )
    result = invoke("study", str(study), "--out", str(tmp_path / "s"))
    assert result.exit_code == 2
    assert "attribution.controls[0]" in result.output and "nobody" in result.output
