"""The report's figures as inline SVG, readable on light and dark pages.

The ICE and RSE bar charts are written as SVG directly (`svgbars`): an ICE or RSE run's report
then never imports matplotlib (a third of a second), and a report over hundreds of RSE runs draws
no matplotlib figure per run (half a second each). The other figures are drawn with matplotlib's object API (no
pyplot state, no GUI backend), imported when one is drawn. Axes, text and
error bars are drawn in a sentinel colour that becomes `currentColor` in the SVG, so they follow
the page's text colour in both colour schemes; data colours come from the Okabe-Ito palette,
which stays distinguishable for the common colour-vision deficiencies. Every SVG carries a
<title> and <desc> (its alt text) and scales to the width of its container.
"""

from __future__ import annotations

import html
import io
import itertools
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distillscope.report import svgbars
from distillscope.report.load import (
    ICE_LEVELS,
    RSE_ASPECTS,
    AttributionRun,
    IceResult,
    MatrixRun,
    RseRun,
    Score,
    display_model_name,
)
from distillscope.textsafe import visible_controls

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

FOREGROUND = "#123456"  # replaced by currentColor in the SVG text
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
LEVEL_COLOURS = {"loose": "#56B4E9", "strict": "#E69F00", "hard": "#D55E00"}
ASPECT_COLOURS = {"style": "#009E73", "logic": "#0072B2", "content": "#CC79A7"}
MAX_LABEL = 26
MAX_WIDTH_IN = 12.0  # wider figures would shrink their text below legibility on a laptop

_ids = itertools.count(1)

_RC: Any = {  # typed loosely: matplotlib types rc keys as literals
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "text.color": FOREGROUND,
    "axes.edgecolor": FOREGROUND,
    "axes.labelcolor": FOREGROUND,
    "axes.titlecolor": FOREGROUND,
    "xtick.color": FOREGROUND,
    "ytick.color": FOREGROUND,
    "grid.color": FOREGROUND,
    "grid.alpha": 0.18,
    "axes.facecolor": "none",
    "figure.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.edgecolor": "none",
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "distillscope",
    # Every text drawn is a name or a label the user chose (datasets, families, models): `$...$` in
    # one is literal text, never mathtext (which failed the whole report on `$\\notacmd$`).
    "text.parse_math": False,
}


@dataclass
class Plot:
    """An inline SVG and the words that describe it (its alt text)."""

    svg: str
    title: str
    description: str
    note: str = "whiskers show 95% intervals"


def drawn(text: str, limit: int = 2 * MAX_LABEL) -> str:
    """A name from a run (a dataset, a family) as a figure draws it: control and format characters
    as visible escapes (matplotlib warned "Glyph 27 missing" on stderr, quoting the raw escape
    character, for each one in a name) and cut to `limit` characters."""
    text = visible_controls(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label(name: str) -> str:
    """A model's name as a figure shows it: display form, cut to MAX_LABEL characters."""
    return drawn(display_model_name(name), MAX_LABEL)


def short(name: str) -> str:
    return label(name)  # "$" is literal: mathtext is off for every text (`_RC`)


def _new_figure(width: float, height: float) -> Figure:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def to_svg(fig: Figure, title: str, description: str, note: str = "whiskers show 95% intervals") -> Plot:
    """Inline SVG: no XML prolog, unique ids, currentColor ink, fluid width, title and desc."""
    import matplotlib

    uid = f"ds{next(_ids)}"
    buffer = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": uid}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"(?i)" + re.escape(FOREGROUND), "currentColor", text)
    text = re.sub(r"\bid=\"([^\"]+)\"", lambda m: f'id="{uid}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{uid}-{m.group(1)})", text)
    text = re.sub(r"xlink:href=\"#([^\"]+)\"", lambda m: f'xlink:href="#{uid}-{m.group(1)}"', text)
    text = re.sub(
        r"font-family: *'?DejaVu Sans'?",
        "font-family: system-ui, 'DejaVu Sans', 'Segoe UI', Roboto, Arial, sans-serif",
        text,
    )
    text = re.sub(
        r"font: ([0-9.]+px) 'DejaVu Sans'", r"font: \1 system-ui, 'DejaVu Sans', Arial, sans-serif", text
    )
    head_end = text.index(">") + 1
    head = text[:head_end]
    natural = re.search(r'\swidth="([0-9.]+)pt"', head)
    max_px = float(natural.group(1)) * 4 / 3 * 1.25 if natural else 980.0
    head = re.sub(r'\swidth="[^"]*"', "", head, count=1)
    head = re.sub(r'\sheight="[^"]*"', "", head, count=1)
    head = (
        head[:-1]
        + f' role="img" aria-labelledby="{uid}-t {uid}-d" class="plot" style="max-width: {max_px:.0f}px; min-width: {min(max_px, 520):.0f}px">'
    )
    title, description = visible_controls(title), visible_controls(description)  # they quote names
    labels = f'<title id="{uid}-t">{html.escape(title)}</title><desc id="{uid}-d">{html.escape(description)}</desc>'
    return Plot(head + labels + text[head_end:], title, description, note)


def _err(scores: Sequence[Score | None]) -> np.ndarray:
    import numpy as np

    lows, highs = [], []
    for s in scores:
        if s is None or s.score is None or s.lo is None or s.hi is None:
            lows.append(0.0)
            highs.append(0.0)
        else:
            lows.append(max(0.0, s.score - s.lo))
            highs.append(max(0.0, s.hi - s.score))
    return np.array([lows, highs])


def _values(scores: Sequence[Score | None]) -> np.ndarray:
    import numpy as np

    return np.array(
        [s.score if s is not None and s.score is not None else np.nan for s in scores], dtype=float
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return (
        "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
    )


MAX_VALUE_LABELS = 12  # targets; past that the numbers would overlap (the tables carry them)


def _label_values(ax: Any, xs: np.ndarray, scores: Sequence[Score | None], *, vertical: bool) -> None:
    """Each bar's value above its whisker, so a zero bar (no height) still says 0.00."""
    for x, s in zip(xs, scores, strict=True):
        value = s.score if s is not None else None
        top = max(v for v in (value, s.hi if s is not None else None, 0.0) if v is not None)
        ax.text(
            float(x),
            top + 0.02,
            _fmt(value, 2),
            ha="center",
            va="bottom",
            fontsize=7,
            rotation=90 if vertical else 0,
        )


def ice_bars(results: Sequence[IceResult], judge: str | None = None) -> Plot | None:
    """Loose, strict and hard share per target with 95% intervals (the paper's Figure 2); `judge`
    names the judge setup in the title when a report draws one chart per judge."""
    results = [r for r in results if r.scores]
    if not results:
        return None
    names = [label(r.target) for r in results]
    series = [
        svgbars.Series(level, LEVEL_COLOURS[level], [r.scores.get(level) for r in results])
        for level in ICE_LEVELS
    ]
    parts = "; ".join(
        f"{r.target}: "
        + ", ".join(f"{lv} {_fmt(r.scores[lv].score if lv in r.scores else None)}" for lv in ICE_LEVELS)
        for r in results
    )
    title = "ICE identity contradiction by target" + (f", judged by {judge}" if judge else "")
    description = f"Bar chart of loose, strict and hard scores with 95% intervals. {parts}."
    svg = svgbars.grouped_bars(
        names, series, title=title, description=description, ylabel="share of judged responses",
        value_labels=len(results) <= MAX_VALUE_LABELS,
    )  # fmt: skip
    return Plot(svg, title, description)


def rse_aspect_bars(run: RseRun) -> Plot | None:
    """Style, logic and content similarity per test model, one panel per dataset.

    Written as SVG directly (`svgbars`), as the ICE chart is: a report over hundreds of RSE runs
    drew one matplotlib figure per run, about half a second each, most of the report's time."""
    datasets = [d for d in run.datasets if any(d in m.aspects for m in run.models)]
    if not datasets:
        return None
    models = [m for m in run.models if any(d in m.aspects for d in datasets)]
    title = f"RSE similarity to {run.reference or 'the reference'} by aspect"
    names = [label(m.name) for m in models]
    described: list[str] = []
    panels: list[str] = []
    for ds in datasets:
        series = [
            svgbars.Series(
                aspect, ASPECT_COLOURS[aspect], [m.aspects.get(ds, {}).get(aspect) for m in models]
            )
            for aspect in RSE_ASPECTS
        ]
        parts = [
            f"{ds} {s.name}: "
            + ", ".join(
                f"{m.name} {_fmt(score.score if score is not None else None, 2)}"
                for m, score in zip(models, s.scores, strict=True)
            )
            for s in series
        ]
        described.extend(parts)
        panels.append(
            svgbars.grouped_bars(
                names,
                series,
                title=f"{title}: {drawn(ds)}",
                description="; ".join(parts) + ".",
                ylabel="similarity (1-5)",
                y_range=(1.0, 5.0),
                ticks=(1.0, 2.0, 3.0, 4.0, 5.0),
                value_labels=len(models) * len(RSE_ASPECTS) <= 15,
            )
        )
    description = visible_controls(
        "Bar chart of style, logic and content similarity (1 to 5) with 95% intervals. "
        + "; ".join(described)
        + "."
    )
    return Plot("".join(panels), visible_controls(title), description)


@dataclass
class MapPoint:
    name: str
    rse: Score
    ice: dict[str, Score]
    judge: str = ""  # the ICE judge setup (report.build.judge_setup) the ICE scores come from


def ice_rse_map(points: Sequence[MapPoint], judge: str | None = None) -> Plot | None:
    """Each model a point: RSE similarity on x, ICE strict and hard on y, with both intervals;
    `judge` names the ICE judge setup in the title when a report draws one map per judge."""
    levels = [lv for lv in ("strict", "hard") if any(lv in p.ice for p in points)]
    if not points or not levels:
        return None
    import matplotlib

    fig = _new_figure(4.2 * len(levels) + 0.6, 4.0)
    described: list[str] = []
    with matplotlib.rc_context(_RC):
        axes = fig.subplots(1, len(levels), squeeze=False)[0]
        for ax, level in zip(axes, levels, strict=True):
            for i, p in enumerate(points):
                ice = p.ice.get(level)
                if ice is None or ice.score is None or p.rse.score is None:
                    continue
                colour = OKABE_ITO[i % len(OKABE_ITO)]
                ax.errorbar(
                    [p.rse.score],
                    [ice.score],
                    xerr=_err([p.rse]),
                    yerr=_err([ice]),
                    fmt="o",
                    color=colour,
                    ecolor=colour,
                    capsize=3,
                    markersize=7,
                    label=short(p.name),
                )
                ax.annotate(
                    short(p.name),
                    (p.rse.score, ice.score),
                    textcoords="offset points",
                    xytext=(5, 5),
                    fontsize=8,
                )
                described.append(f"{p.name}: RSE {_fmt(p.rse.score, 2)}, ICE {level} {_fmt(ice.score)}")
            highs = [p.ice[level].hi or p.ice[level].score or 0.0 for p in points if level in p.ice]
            ax.set_xlim(1, 5)  # the whole similarity scale, so maps of different studies compare
            ax.set_ylim(0, min(1.0, max(0.1, max(highs, default=0.0) * 1.15)))
            ax.set_xlabel("RSE similarity to reference (1-5)")
            ax.set_ylabel(f"ICE {level} score")
            ax.grid()
            ax.set_axisbelow(True)
            ax.set_title(f"ICE {level} vs RSE")
    if not described:
        return None
    return to_svg(
        fig,
        "ICE × RSE: identity contradiction against response similarity"
        + (visible_controls(f", ICE judged by {judge}") if judge else ""),
        "Scatter plot, one point per model with 95% intervals on both axes. " + "; ".join(described) + ".",
    )


def matrix_linkage(run: MatrixRun) -> np.ndarray | None:
    """The run's linkage if it wrote one, else average linkage on (max similarity - similarity)."""
    import numpy as np
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    size = len(run.models)
    if size < 2:
        return None
    if run.linkage is not None:
        try:
            given = np.asarray(run.linkage, dtype=float)
            if given.shape == (size - 1, 4):
                return given
        except (TypeError, ValueError):
            pass
    sims = np.array([[np.nan if v is None else v for v in row] for row in run.scores], dtype=float)
    sims = np.where(np.isnan(sims), sims.T, sims)
    sims = (sims + sims.T) / 2
    if not np.isfinite(sims[~np.eye(size, dtype=bool)]).any():
        return None  # no two models scored against each other: nothing to cluster
    dist = np.nan_to_num(float(np.nanmax(sims)) - sims, nan=float(np.nanmax(sims) - np.nanmin(sims)) or 1.0)
    dist = np.clip(dist, 0, None)
    np.fill_diagonal(dist, 0.0)
    return np.asarray(linkage(squareform(dist, checks=False), method="average"))


def matrix_plot(run: MatrixRun) -> Plot | None:
    """Heatmap of pairwise similarity ordered by the dendrogram drawn above it."""
    import matplotlib
    import numpy as np
    from scipy.cluster.hierarchy import dendrogram

    size = len(run.models)
    if size == 0:
        return None
    labels = [short(m) for m in run.models]
    link = matrix_linkage(run)
    inches = min(MAX_WIDTH_IN, max(5.0, 0.55 * size + 3.0))
    fig = _new_figure(inches, inches + 0.4)
    with matplotlib.rc_context(_RC):
        grid = fig.add_gridspec(
            2, 2, height_ratios=(1, max(2.5, size * 0.35)), width_ratios=(max(2.5, size * 0.35), 0.12)
        )
        order = list(range(size))
        if link is not None:
            dax = fig.add_subplot(grid[0, 0])
            with warnings.catch_warnings():
                # models that all answer alike merge at height 0, and scipy sets the axis to
                # [0, 0]: matplotlib's UserWarning was printed on the caller's stderr (an API call
                # or `rse matrix --quiet`) for a valid result; matplotlib widens the axis itself
                warnings.filterwarnings("ignore", message="Attempting to set identical low and high ylims")
                tree = dendrogram(
                    link,
                    ax=dax,
                    no_plot=False,
                    labels=labels,
                    no_labels=True,
                    link_color_func=lambda _k: FOREGROUND,
                )
            order = [int(i) for i in tree["leaves"] or order]
            dax.set_yticks([])
            for side in ("left", "bottom"):
                dax.spines[side].set_visible(False)
            dax.set_title("models that answer alike cluster together")
        elif run.order and sorted(run.order) == order:
            order = list(run.order)
        ax = fig.add_subplot(grid[1, 0])
        data = np.array(
            [[np.nan if run.scores[i][j] is None else run.scores[i][j] for j in order] for i in order],
            dtype=float,
        )
        image = ax.imshow(data, cmap="cividis", aspect="auto", interpolation="nearest")
        ax.set_xticks(range(size), [labels[i] for i in order], rotation=45, ha="right")
        ax.set_yticks(range(size), [labels[i] for i in order])
        for side in ("top", "right"):
            ax.spines[side].set_visible(True)
        if size <= 14:
            finite = data[np.isfinite(data)]
            mid = float((finite.min() + finite.max()) / 2) if finite.size else 0.0
            for i in range(size):
                for j in range(size):
                    if np.isfinite(data[i, j]):
                        ax.text(
                            j,
                            i,
                            f"{data[i, j]:.2f}",
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="#000000" if data[i, j] > mid else "#ffffff",
                        )
        fig.colorbar(image, cax=fig.add_subplot(grid[1, 1]), label="similarity")
    ordered = ", ".join(run.models[i] for i in order)
    return to_svg(
        fig,
        "Homogenization matrix",
        f"Heatmap of pairwise response similarity between {size} models, "
        f"rows and columns in dendrogram order: {ordered}.",
        note="rows and columns in dendrogram order",
    )


FAMILY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


def attribution_bars(run: AttributionRun) -> Plot | None:
    """Mean P(family) per test model, one bar per family, with 95% intervals."""
    import matplotlib
    import numpy as np

    models = [m for m in run.models if m.families]
    if not models or not run.families:
        return None
    many = len(models) > 8
    fig = _new_figure(
        min(MAX_WIDTH_IN, max(5.0, 0.8 * len(models) * max(1, len(run.families) / 2) + 1.8)),
        4.2 if many else 3.4,
    )
    width = 0.8 / len(run.families)
    described: list[str] = []
    with matplotlib.rc_context(_RC):
        ax = fig.subplots()
        x = np.arange(len(models))
        for k, family in enumerate(run.families):
            scores = [m.families.get(family) for m in models]
            values = _values(scores)
            ax.bar(
                x + (k - (len(run.families) - 1) / 2) * width,
                np.nan_to_num(values, nan=0.0),
                width,
                color=FAMILY_COLOURS[k % len(FAMILY_COLOURS)],
                label=drawn(family),
                yerr=_err(scores),
                ecolor=FOREGROUND,
                capsize=2,
                error_kw={"elinewidth": 1},
            )
            described.append(
                f"P({family}): "
                + ", ".join(f"{m.name} {_fmt(v, 2)}" for m, v in zip(models, values, strict=True))
            )
        ax.axhline(1 / len(run.families), color=FOREGROUND, linewidth=0.8, linestyle=":")
        ax.set_xticks(
            x,
            [
                short(m.name)
                + ("" if m.predicted is None else f" → {drawn(m.predicted_label or m.predicted)}")
                for m in models
            ],
            rotation=(60 if many else 25) if len(models) > 2 else 0,
            ha="right" if len(models) > 2 else "center",
            fontsize=8 if many else 10,
        )
        ax.set_ylim(0, 1)
        ax.set_ylabel("mean P(family)")
        ax.grid(axis="y")
        ax.set_axisbelow(True)
        fig.legend(
            *ax.get_legend_handles_labels(), ncols=min(4, len(run.families)), loc="outside upper center"
        )
    return to_svg(
        fig,
        "Attribution: which family each test model's answers resemble",
        "Bar chart of the mean cross-fitted probability of each family per test model, with 95% intervals; "
        "the arrow names the family resembled most (n.s.: not significant over prompts). "
        + "; ".join(described)
        + ".",
    )
