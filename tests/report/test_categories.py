"""Categories and unsure bands in the report: what a score is made of, and how far unsure verdicts could move it."""

from __future__ import annotations

import json
from pathlib import Path

from distillscope.ice.scoring import categories, outcome, scores
from distillscope.ice.types import Category, Verdict
from distillscope.report import build_report, render

from .test_html import assert_valid_html, sections


def write_run(out: Path, verdicts: list[Verdict], judge: str) -> Path:
    """An ICE run directory whose results come from the real scoring functions."""
    out.mkdir(parents=True)
    outcomes = [outcome(v, "Who made you?") for v in verdicts]
    cats = categories(outcomes)
    results = {
        "kind": "ice",
        "target": "glm-4-plus",
        "target_identity": {"organisation": "Zhipu AI", "family": "glm"},
        "judge": judge,
        "n_responses": len(verdicts),
        "n_judged": len(verdicts),
        "n_unjudged": 0,
        "n_unsure": sum(o.unsure for o in outcomes),
        "scores": scores(outcomes),
        "categories": cats,
        **({"categories_note": "the recorded judge gives no category"} if set(cats) == {"unknown"} else {}),
        "settings": {"mode": "plain"},
        "complete": True,
    }
    (out / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return out


def rules_verdicts() -> list[Verdict]:
    v = [Verdict(loose=True, strict=True, judge="rules", category=Category.OTHER_VENDOR)] * 6
    v += [Verdict(loose=True, strict=False, judge="rules", category=Category.FICTIONAL_ORG)] * 2
    v += [Verdict(loose=True, strict=False, judge="rules", category=Category.NO_MAKER, unsure=True)]
    v += [Verdict(loose=False, strict=False, judge="rules", category=Category.HYPOTHETICAL, unsure=True)]
    v += [Verdict(loose=False, strict=False, judge="rules", category=Category.CONSISTENT)] * 10
    return v


def test_markdown_shows_categories_and_bands(tmp_path: Path) -> None:
    text = render(build_report([write_run(tmp_path / "r", rules_verdicts(), "rules")]), "md")
    assert "## Categories: glm-4-plus" in text
    assert "| other-vendor | 6 | 0.300 [" in text  # 6 of 20 judged responses
    assert "| hypothetical | 1 | 0.000 [" in text
    # loose 9/20 as best guess, band [8/20 every unsure no, 10/20 every unsure yes]
    assert "0.450 [" in text and "band [0.400, 0.500]" in text
    assert "| Unsure |" in text and "every unsure" in text


def test_html_shows_categories_and_bands(tmp_path: Path) -> None:
    page = render(build_report([write_run(tmp_path / "r", rules_verdicts(), "rules")]), "html")
    assert_valid_html(page)
    assert "categories" in sections(page)
    assert "band [0.400, 0.500]" in page and "fictional-org" in page


def test_a_judge_without_categories_says_so(tmp_path: Path) -> None:
    recorded = [Verdict(loose=i < 3, strict=i < 2, judge="recorded") for i in range(10)]
    run = write_run(tmp_path / "r", recorded, "recorded")
    text = render(build_report([run]), "md")
    assert "| unknown | 10 | 0.300 [" in text and "gives no category" in text
    assert "band [" not in text  # nobody was unsure: no band to show
    page = render(build_report([run]), "html")
    assert_valid_html(page)
    assert "gives no category" in page
