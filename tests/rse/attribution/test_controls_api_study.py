"""`--control` through the Python API and in a study file; the distillation verdict in the study
report and in `distillscope compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import distillscope as ds
from distillscope.rse.attribution.controls import CALLED, wording
from distillscope.rse.attribution.types import Decision

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
    study = _study_file(tmp_path, f"[{', '.join(CONTROLS)}]", n_prompts=20)
    out = tmp_path / "study"
    result = ds.study(study, out=out)
    entry = result.targets["copycat"].attribution
    assert entry is not None and entry.decision is not None and entry.decision.distilled_from == "a"
    assert result.attribution is not None and result.attribution_dir == "attribution"
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Distillation verdict" in markdown and "distilled from a (p = " in markdown
    called = [c for c, m in result.attribution.controls.items() if m.decision and m.decision.status in CALLED]
    assert f"{len(called)} of 4 controls called distilled" in markdown
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


def _study_file(tmp_path: Path, controls: str, n_prompts: int = 4) -> Path:
    folder = write_mt_bench(tmp_path / "answers", WRITERS | dict.fromkeys(CONTROLS), n_prompts=n_prompts)
    models = "".join(f'  {m}: {{spec: "replay:{folder / m}.jsonl"}}\n' for m in [*WRITERS, *CONTROLS])
    study = tmp_path / "study.yaml"
    study.write_text(
        f"models:\n{models}targets: [copycat]\nice: null\n"
        "attribution:\n  families: {a: [a1, a2], b: [b1, b2]}\n"
        f"  controls: {controls}\n  datasets: {{mt: answers/question.jsonl}}\n",
        encoding="utf-8",
    )
    return study


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ("[independent0]", "'independent0' is the only control: a single control is too few"),
        ("[independent0, a1]", "'a1' is also a family member"),
        ("[independent0, copycat]", "'copycat' is also a target"),
        ("[independent0, independent1, independent0]", "'independent0' is listed twice"),
    ],
)
def test_study_controls_the_run_would_refuse_are_refused_when_the_file_is_read(
    tmp_path: Path, controls: str, message: str
) -> None:
    """--dry-run refuses what the run would, and the run refuses before it writes anything, naming
    the study file, the line and the field rather than a flag."""
    study = _study_file(tmp_path, controls)
    line = study.read_text(encoding="utf-8").splitlines().index(f"  controls: {controls}") + 1
    _refused_when_read(study, f"study.yaml:{line}: field 'attribution.controls': {message}", "--control")


def _refused_when_read(study: Path, expected: str, not_said: str) -> None:
    """`study --dry-run` and `study --out` both refuse `study` in one line holding `expected` (and
    not `not_said`, the run's own wording), and nothing is written."""
    out = study.parent / "s"
    for args in (["--dry-run"], ["--out", str(out)]):
        result = invoke("study", str(study), *args)
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert len(result.output.strip().splitlines()) == 1 and not_said not in text
        assert expected in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("families", "family", "message"),
    [
        ("{a: [a1, a2], b: [b1, copycat]}", "b", "'copycat' is also a target"),
        ("{a: [a1, a2], b: [b1, a2]}", "b", "'a2' is listed twice (also in family 'a')"),
        ("{a: [a1, a2, a1], b: [b1, b2]}", "a", "'a1' is listed twice: place each model in one family"),
    ],
)
def test_study_family_members_the_run_would_refuse_are_refused_when_the_file_is_read(
    tmp_path: Path, families: str, family: str, message: str
) -> None:
    """--dry-run planned them, and the run refused them only when its attribution stage began
    (after every other stage), in rse attribute's words ("two family models are named 'a2' ...;
    rename a file", though each was defined once), naming neither the study file nor the field."""
    study = _study_file(tmp_path, f"[{', '.join(CONTROLS)}]")
    written = "  families: {a: [a1, a2], b: [b1, b2]}"
    study.write_text(study.read_text(encoding="utf-8").replace(written, f"  families: {families}"), "utf-8")
    line = study.read_text(encoding="utf-8").splitlines().index(f"  families: {families}") + 1
    _refused_when_read(
        study, f"study.yaml:{line}: field 'attribution.families.{family}': {message}", "rename a file"
    )


def test_study_prints_each_targets_decision_and_plans_every_turn(tmp_path: Path) -> None:
    study = _study_file(tmp_path, f"[{', '.join(CONTROLS)}]", n_prompts=12)
    plan = invoke("study", str(study), "--dry-run")
    assert plan.exit_code == 0, plan.output
    rows = [line for line in plan.output.splitlines() if "attribution: answers" in line]
    assert len(rows) == 9 and all(line.split("│")[3].strip() == "24" for line in rows)  # 12 prompts x 2 turns
    result = invoke("study", str(study), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    attribution = json.loads((tmp_path / "s" / "attribution" / "results.json").read_text(encoding="utf-8"))
    decision = Decision.model_validate(attribution["models"]["copycat"]["decision"])
    assert f"copycat: attribution: {wording(decision)}" in text
    assert "attribution false-positive check: " in text and "of 4 controls called distilled" in text
    sent = {m: c["calls_sent"] for m, c in attribution["run"]["per_model"].items()}
    assert len(sent) == 9 and set(sent.values()) == {24}  # what the plan said: every model, every turn


def test_study_without_controls_warns_that_no_distilled_claim_is_made(tmp_path: Path) -> None:
    study = _study_file(tmp_path, "[]", n_prompts=12)
    result = invoke("study", str(study), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "copycat: attribution: resembles" in text
    assert "warning: no control models (--control): without independent models to compare with" in text


def test_api_controls_none_is_no_controls(tmp_path: Path) -> None:
    folder = write_mt_bench(tmp_path / "answers", WRITERS, n_prompts=12)
    result = ds.rse.attribute(
        [f"replay:{folder / 'copycat'}.jsonl"],
        families={"a": [f"replay:{folder / m}.jsonl" for m in ("a1", "a2")],
                  "b": [f"replay:{folder / m}.jsonl" for m in ("b1", "b2")]},
        datasets={"mt": str(folder / "question.jsonl")},
        controls=None,
        out=tmp_path / "run",
    )  # fmt: skip
    decision = result.models["copycat"].decision
    assert decision is not None and decision.status == "no-controls" and result.controls == {}
    # the warning names the setting as the API takes it: its user never typed `--control`
    assert any(w.startswith("no control models (controls=):") for w in result.warnings), result.warnings
    assert decision.reason.startswith("run without control models:")


def test_study_prints_every_warning_the_attribution_stage_recorded(tmp_path: Path) -> None:
    """The study printed only the controls' warnings: a control with no answer to some prompts was
    named in attribution/results.json and in no line on the terminal, as `rse attribute` prints it."""
    study = _study_file(tmp_path, f"[{', '.join(CONTROLS)}]", n_prompts=12)
    answers = tmp_path / "answers" / "independent0.jsonl"
    rows = answers.read_text(encoding="utf-8").splitlines()
    answers.write_text("\n".join(rows[:-2]) + "\n", encoding="utf-8")  # two prompts unanswered
    result = invoke("study", str(study), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    recorded = json.loads((tmp_path / "s" / "attribution" / "results.json").read_text(encoding="utf-8"))
    assert any("independent0: no answer for 4 of its 24 prompt turns" in w for w in recorded["warnings"])
    for warning in recorded["warnings"]:
        assert f"warning: {warning}" in text
