"""What every format shares: rankings, ICE x RSE pairing, matrix pairs, settings and costs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from distillscope.report import build_report
from distillscope.report.build import (
    compact,
    contrast_table,
    cost_rows,
    map_points,
    matrix_pairs,
    missing_rows,
    paired_rows,
    rankings,
    settings_rows,
    to_json,
)
from distillscope.report.load import MatrixRun, RseRun
from distillscope.results.rse import Contrast, RseMissing


def test_rankings_order_each_score(study: Callable[..., list[Path]]) -> None:
    report = build_report(study())
    ranked = {r.title: r for r in rankings(report)}
    assert {
        "ICE loose",
        "ICE strict",
        "ICE hard",
        "RSE average vs gpt-4o",
        "RSE arena vs gpt-4o",
        "RSE numina vs gpt-4o",
    } <= set(ranked)
    for ranking in ranked.values():
        values = [s.score for _m, s, _p in ranking.rows]
        assert values == sorted(values, reverse=True)


def test_map_matches_models_by_normalised_name(study: Callable[..., list[Path]]) -> None:
    points = {p.name: p for p in map_points(build_report(study()))}
    # the ICE target is `openai-compatible:glm-4-plus@http://...`, the RSE model `glm-4-plus`
    assert set(points) == {"glm-4-plus", "llama-3-8b"}
    assert points["glm-4-plus"].ice["strict"].score is not None and points["glm-4-plus"].rse.n == 2


def test_matrix_pairs_find_the_clusters(study: Callable[..., list[Path]]) -> None:
    (matrix,) = [r for r in build_report(study(ice=False, rse=False)).runs if isinstance(r, MatrixRun)]
    most, least = matrix_pairs(matrix, k=2)
    assert {frozenset(p[:2]) for p in most} == {
        frozenset({"gpt-4o", "glm-4-plus"}),
        frozenset({"qwen-max", "llama-3-8b"}),
    }
    assert all(m[2] > low[2] for m in most for low in least)


def test_rse_paired_and_missing_rows(study: Callable[..., list[Path]]) -> None:
    (rse,) = [r for r in build_report(study(ice=False, matrix=False)).runs if isinstance(r, RseRun)]
    rows = paired_rows(rse)
    assert rows is not None and [r[2] for r in rows] == ["arena", "numina", "average"]
    assert missing_rows(rse.missing) == []
    shown = missing_rows(
        RseMissing.model_validate(
            {
                "reference": {"count": 0, "ids": {}},
                "models": {"m": {"count": 2, "ids": {"arena": ["a1", "a2"]}}},
            }
        )
    )
    assert shown == [("m", 2, '{"ids": {"arena": ["a1", "a2"]}}')]
    assert missing_rows(None) is None


def test_settings_and_costs_rows(study: Callable[..., list[Path]]) -> None:
    report = build_report(study(rse=False, matrix=False))
    settings = dict(settings_rows(report.runs[0]))
    assert settings["judge"] == "rules" and settings["mode"] == "fuzz" and settings["complete"] == "yes"
    assert settings["started_at"].startswith("2026-11-23T10:00")
    costs = dict(cost_rows(report.runs[0]))
    assert (
        costs["calls sent"] == "60"
        and costs["estimated cost (USD)"] == "0.0123"
        and costs["unjudged responses"] == "1"
    )


def test_json_report_keeps_raw_numbers(study: Callable[..., list[Path]]) -> None:
    data = to_json(build_report(study()))
    json.dumps(data)
    ice = data["runs"][0]
    assert ice["settings"]["seed"] == 3 and ice["costs"]["calls_sent"] == 60
    assert ice["targets"][0]["breakdowns"]["language"]["en"]["loose"]["n"] > 0


def test_compact() -> None:
    assert compact(None) == "—" and compact(True) == "yes" and compact(0.1 + 0.2) == "0.3"
    assert compact({"b": 1, "a": [1, 2]}) == '{"a": [1, 2], "b": 1}' and compact("x" * 500).endswith("…")


def test_contrast_table_from_the_runner_shape(study: Callable[..., list[Path]]) -> None:
    (run,) = build_report(study(ice=False, matrix=False)).rse_runs
    table = contrast_table(run.contrast)
    assert table is not None
    assert table.measures == ["overall", "style", "logic", "content", "embedding"]  # aspects first
    assert [name for name, _ in table.rows] == ["glm-4-plus", "llama-3-8b"]
    assert table.panel == ["glm-4-plus", "llama-3-8b"]
    overall = table.rows[0][1]["overall"]
    assert overall is not None and (overall.score, overall.lo, overall.hi, overall.n) == (0.33, 0.1, 0.53, 24)
    assert [table.label(m) for m in table.measures][-1] == "embedding (raw)"
    assert contrast_table(Contrast()) is None and contrast_table(None) is None  # no block, or an empty one
