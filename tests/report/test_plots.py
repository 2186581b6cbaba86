"""Figures: inline SVG that follows the page's colours, has alt text and unique ids."""

from __future__ import annotations

import re
from pathlib import Path

from distillscope.report import plots
from distillscope.report.load import IceResult, IceRun, MatrixRun, RseRun, Score, load_run

from .conftest import make_ice_run, make_matrix_run, make_rse_run


def test_ice_bars_svg_is_inline_accessible_and_themed(tmp_path: Path) -> None:
    run = load_run(make_ice_run(tmp_path / "ice", "glm-4-plus"))
    assert isinstance(run, IceRun)
    plot = plots.ice_bars(run.results)
    assert plot is not None
    assert plot.svg.startswith("<svg") and "<?xml" not in plot.svg and "DOCTYPE" not in plot.svg
    assert 'role="img"' in plot.svg and "<title " in plot.svg and "<desc " in plot.svg
    assert "currentColor" in plot.svg and plots.FOREGROUND not in plot.svg
    assert "glm-4-plus: loose" in plot.description
    for colour in plots.LEVEL_COLOURS.values():
        assert colour.lower() in plot.svg.lower()


def test_an_all_zero_ice_chart_still_shows_its_values() -> None:
    zero = {lv: Score(0.0, 0.0, 0.324, 8, 0) for lv in ("loose", "strict", "hard")}
    some = {"loose": Score(0.375, 0.137, 0.694, 8, 3), "strict": Score(0.25, 0.071, 0.591, 8, 2)}
    plot = plots.ice_bars([IceResult("smollm2", zero, {}), IceResult("smollm2-as-openai", some, {})])
    assert plot is not None
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", plot.svg)
    assert labels.count("0.00") == 3  # three zero-height bars, each labelled
    assert {"0.38", "0.25"} <= set(labels) and "n/a" in labels  # a missing hard score says so


def test_two_plots_share_no_element_ids(tmp_path: Path) -> None:
    run = load_run(make_ice_run(tmp_path / "ice"))
    assert isinstance(run, IceRun)
    first, second = plots.ice_bars(run.results), plots.ice_bars(run.results)
    assert first is not None and second is not None
    ids = lambda svg: set(re.findall(r'\bid="([^"]+)"', svg))  # noqa: E731
    assert ids(first.svg) and not ids(first.svg) & ids(second.svg)


def test_rse_and_matrix_plots(tmp_path: Path) -> None:
    rse = load_run(make_rse_run(tmp_path / "rse"))
    matrix = load_run(make_matrix_run(tmp_path / "m", ("a", "b", "c", "d")))
    assert isinstance(rse, RseRun) and isinstance(matrix, MatrixRun)
    aspect = plots.rse_aspect_bars(rse)
    assert aspect is not None and "arena style" in aspect.description
    heat = plots.matrix_plot(matrix)
    assert heat is not None and "dendrogram order" in heat.description
    link = plots.matrix_linkage(matrix)
    assert link is not None and link.shape == (3, 4)
    # the two clusters the fixture builds (a,b) and (c,d) merge first
    first_merges = {frozenset(map(int, row[:2])) for row in link[:2]}
    assert first_merges == {frozenset({0, 1}), frozenset({2, 3})}


def test_map_and_odd_names() -> None:
    point = plots.MapPoint("cost$5 model", Score(3.5, 3.2, 3.8, 80), {"strict": Score(0.3, 0.2, 0.4, 100)})
    plot = plots.ice_rse_map([point])
    assert plot is not None and "cost$5 model" in plot.description
    assert plots.ice_rse_map([]) is None
    assert plots.ice_bars([]) is None
