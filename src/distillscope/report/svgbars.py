"""Grouped bar charts with 95% interval whiskers, written as SVG directly.

A bar chart is a few dozen rectangles and lines: drawing it here costs about a millisecond,
where importing matplotlib costs a third of a second, which a one-query run would pay in every
report. The output follows the same conventions as `plots.to_svg`: inline (no XML prolog),
`currentColor` ink so it follows the page's light or dark text, ids unique on the page, a
<title> and <desc> as alt text, a fluid width. Each bar carries its own <title> (value, interval
and n) as a tooltip.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from distillscope.report.load import Score
from distillscope.textsafe import visible_controls

FONT = "system-ui, 'DejaVu Sans', 'Segoe UI', Roboto, Arial, sans-serif"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    """One bar per group, in one colour: e.g. the loose scores of every target."""

    name: str
    colour: str
    scores: Sequence[Score | None]


def _text(value: str) -> str:
    """Text as SVG content: markup escaped, control and format characters visible (a name or a
    description quoting one may hold them)."""
    return html.escape(visible_controls(value))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    ylabel: str,
    y_range: tuple[float, float] = (0.0, 1.0),
    ticks: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
    value_labels: bool = True,
) -> str:
    """An SVG of `len(groups)` groups of `len(series)` bars, whiskers at each score's interval, and
    (`value_labels`) each bar's value above it, so a zero-height bar still shows its number."""
    uid = f"dsb{next(_ids)}"
    n = max(1, len(groups))
    rotate = 0 if n <= 3 else (25 if n <= 8 else 60)
    font = 13 if n <= 12 else 11
    longest = max((len(g) for g in groups), default=0)
    bottom = 40 if not rotate else 28 + int(longest * font * 0.55 * (0.45 if rotate == 25 else 0.87))
    left, right, top = 64, 16, 44
    group_w = max(56.0, min(140.0, 760.0 / n))
    width = left + right + group_w * n
    height = top + 260 + bottom
    plot_h = 260.0
    lo, hi = y_range

    def y(value: float) -> float:
        value = min(max(value, lo), hi)
        return top + plot_h - (value - lo) / (hi - lo) * plot_h

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" class="plot" '
        f'style="max-width: {width * 1.25:.0f}px; min-width: {min(width * 1.25, 520):.0f}px" '
        f'font-family="{html.escape(FONT)}" font-size="{font}" fill="currentColor">',
        f'<title id="{uid}-t">{_text(title)}</title><desc id="{uid}-d">{_text(description)}</desc>',
    ]
    # y axis: grid lines, ticks, label
    for tick in ticks:
        ty = y(tick)
        out.append(
            f'<line x1="{left}" x2="{_num(width - right)}" y1="{_num(ty)}" y2="{_num(ty)}" '
            'stroke="currentColor" stroke-opacity="0.18" stroke-width="0.8"/>'
            f'<text x="{left - 6}" y="{_num(ty + font * 0.35)}" text-anchor="end">{tick:g}</text>'
        )
    out.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{_num(top + plot_h)}" stroke="currentColor"/>'
        f'<line x1="{left}" x2="{_num(width - right)}" y1="{_num(top + plot_h)}" y2="{_num(top + plot_h)}" '
        'stroke="currentColor"/>'
        f'<text transform="translate({font + 2} {_num(top + plot_h / 2)}) rotate(-90)" '
        f'text-anchor="middle">{_text(ylabel)}</text>'
    )
    # bars and whiskers
    k = max(1, len(series))
    bar_w = group_w * 0.78 / k
    for g, name in enumerate(groups):
        x0 = left + g * group_w + group_w * 0.11
        for s_i, s in enumerate(series):
            score = s.scores[g] if g < len(s.scores) else None
            bx = x0 + s_i * bar_w
            value = score.score if score is not None and score.score is not None else None
            tip = f"{name} {s.name}: " + (
                "n/a"
                if value is None
                else f"{value:.3f}"
                + (
                    f" (95% CI {score.lo:.3f}-{score.hi:.3f})"
                    if score is not None and score.lo is not None and score.hi is not None
                    else ""
                )
                + (f", n={score.n}" if score is not None and score.n is not None else "")
            )
            top_y = y(value if value is not None else lo)
            out.append(
                f'<rect x="{_num(bx)}" y="{_num(top_y)}" width="{_num(bar_w)}" '
                f'height="{_num(top + plot_h - top_y)}" fill="{s.colour}"><title>{_text(tip)}</title></rect>'
            )
            if value is not None and score is not None and score.lo is not None and score.hi is not None:
                cx = bx + bar_w / 2
                y_lo, y_hi = y(min(score.lo, value)), y(max(score.hi, value))
                cap = min(6.0, bar_w * 0.6) / 2
                out.append(
                    f'<path d="M{_num(cx)} {_num(y_lo)}V{_num(y_hi)}M{_num(cx - cap)} {_num(y_lo)}'
                    f'H{_num(cx + cap)}M{_num(cx - cap)} {_num(y_hi)}H{_num(cx + cap)}" '
                    'stroke="currentColor" stroke-width="1" fill="none"/>'
                )
            if value_labels:
                above = y(max(value, score.hi or value) if value is not None and score is not None else lo)
                out.append(
                    f'<text x="{_num(bx + bar_w / 2)}" y="{_num(above - 3)}" text-anchor="middle" '
                    f'font-size="{_num(font * 0.8)}">{"n/a" if value is None else f"{value:.2f}"}</text>'
                )
        lx = left + (g + 0.5) * group_w
        ly = top + plot_h + font + 4
        label = _text(name)
        if rotate:
            out.append(
                f'<text transform="translate({_num(lx)} {_num(ly)}) rotate(-{rotate})" '
                f'text-anchor="end">{label}</text>'
            )
        else:
            out.append(f'<text x="{_num(lx)}" y="{_num(ly)}" text-anchor="middle">{label}</text>')
    # legend, centred above the plot
    item_w = [26 + len(s.name) * font * 0.6 for s in series]
    lx = (width - sum(item_w)) / 2
    for s, w in zip(series, item_w, strict=True):
        out.append(
            f'<rect x="{_num(lx)}" y="{top - 30}" width="14" height="14" fill="{s.colour}"/>'
            f'<text x="{_num(lx + 19)}" y="{_num(top - 30 + 12)}">{_text(s.name)}</text>'
        )
        lx += w
    out.append("</svg>")
    return "".join(out)
