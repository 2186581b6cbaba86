"""An `rse attribute` run directory in the report: table, bars, features, rankings, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from distillscope.report import build_report, render
from distillscope.report.build import rankings
from distillscope.report.load import AttributionRun, load_run
from distillscope.rse.attribution.types import (
    AttributionResult,
    FamilyProbability,
    ModelAttribution,
    TellingFeature,
)


def _run_dir(tmp_path: Path) -> Path:
    def fp(score: float, p: float) -> FamilyProbability:
        return FamilyProbability(
            score=score, ci95=(score - 0.05, score + 0.05), p_value=p, p_holm=min(1, 2 * p)
        )

    result = AttributionResult(
        families=["openai", "foil"],
        members={"openai": ["gpt-4"], "foil": ["claude-v1"]},
        models={
            "student <b>": ModelAttribution(
                predicted="openai",
                significant=True,
                probabilities={"openai": fp(0.7, 0.001), "foil": fp(0.3, 0.999)},
                n=40,
                n_prompts=20,
            ),
            "stranger": ModelAttribution(
                predicted="foil",
                probabilities={"openai": fp(0.49, 0.4), "foil": fp(0.51, 0.6)},
                n=40,
                n_prompts=20,
            ),
        },
        evidence={"openai": [TellingFeature(feature="word:Certainly", weight=2.5)]},
        settings={"seed": 0},
        complete=True,
    )
    out = tmp_path / "attr"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(result.model_dump(mode="json")), encoding="utf-8")
    return out


def test_attribution_run_is_read_and_rendered(tmp_path: Path) -> None:
    run = load_run(_run_dir(tmp_path))
    assert isinstance(run, AttributionRun)
    assert run.families == ["openai", "foil"] and run.models[0].predicted == "openai"
    report = build_report([run.path])
    page = render(report, "html")
    assert 'id="attribution"' in page and "word:Certainly" in page
    assert "student &lt;b&gt;" in page and "student <b>" not in page  # model names are escaped
    assert "<svg" in page.split('id="attribution"', 1)[1]  # the bars
    md = render(report, "md")
    assert "P(openai)" in md and "| foil (n.s.) |" in md and "| openai |" in md
    data = json.loads(render(report, "json"))
    assert data["runs"][0]["kind"] == "attribution"
    titles = [r.title for r in rankings(report)]
    assert "Attribution P(openai)" in titles


def test_the_markdown_report_carries_the_runs_warnings_as_the_page_does(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    data = json.loads((run / "results.json").read_text(encoding="utf-8"))
    caveat = "family openai: its own answers are classified as openai only 10% of the time out of fold"
    data["warnings"] = [caveat, "no control models (--control): no 'distilled from' decision is made"]
    (run / "results.json").write_text(json.dumps(data), encoding="utf-8")
    report = build_report([run])
    assert caveat in render(report, "html")
    text = render(report, "md")
    assert f"> `attr`: {caveat}" in text
    assert "> `attr`: no control models (--control): no 'distilled from' decision is made" in text
