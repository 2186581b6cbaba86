"""Figures: inline SVG that follows the page's colours, has alt text and unique ids."""

from __future__ import annotations

import json
import re
import warnings
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


def test_rse_charts_are_drawn_without_matplotlib_each_bar_with_its_numbers(tmp_path: Path) -> None:
    """A report over hundreds of RSE runs drew one matplotlib figure per run (half a second each:
    500 runs took over two minutes). The RSE chart is SVG written directly, as the ICE chart is."""
    import json
    import subprocess
    import sys

    dirs = [make_rse_run(tmp_path / f"rse{i}", seed=i) for i in range(3)]
    probe = (
        "import sys\nfrom pathlib import Path\nfrom distillscope.report import build_report, render\n"
        f"html = render(build_report([Path(d) for d in {[str(d) for d in dirs]!r}]), 'html')\n"
        "import json\nprint(json.dumps(['matplotlib' in sys.modules, html.count('similarity (1-5)')]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported, axes = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not imported and axes == 3 * 2  # three runs, a panel per dataset, no matplotlib

    run = load_run(dirs[0])
    assert isinstance(run, RseRun)
    plot = plots.rse_aspect_bars(run)
    assert plot is not None and plot.svg.count("<svg") == 2  # arena and numina
    assert plot.svg.count('role="img"') == 2 and plots.FOREGROUND not in plot.svg
    model = run.models[0]
    style = model.aspects["arena"]["style"]
    assert style.score is not None and style.lo is not None and style.hi is not None
    tip = f"{model.name} style: {style.score:.3f} (95% CI {style.lo:.3f}-{style.hi:.3f}), n={style.n}"
    assert f"<title>{tip}</title>" in plot.svg
    assert plot.description.startswith("Bar chart of style, logic and content similarity")


def test_a_matrix_of_models_that_all_answer_alike_draws_without_a_warning(tmp_path: Path) -> None:
    """Models that all answer alike (a copy of a model beside it) merge at height 0: scipy set the
    dendrogram's axis to [0, 0] and matplotlib's UserWarning "Attempting to set identical low and
    high ylims" was printed on the caller's stderr at `ds.rse.matrix(...)` (quiet) and `rse matrix --quiet`."""
    out = make_matrix_run(tmp_path / "m", ("a", "b", "c"))
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    data["scores"] = [[5.0] * 3 for _ in range(3)]
    (out / "results.json").write_text(json.dumps(data), encoding="utf-8")
    matrix = load_run(out)
    assert isinstance(matrix, MatrixRun)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        heat = plots.matrix_plot(matrix)
    assert heat is not None and "dendrogram order" in heat.description
    assert [str(w.message) for w in caught] == []
