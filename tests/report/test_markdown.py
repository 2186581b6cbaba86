"""The Markdown report: the same tables as the page, model text rendered inert."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from distillscope.report import build_report, render
from distillscope.report.markdown import escape


def test_markdown_has_the_tables(study: Callable[..., list[Path]]) -> None:
    text = render(build_report(study()), "md")
    for heading in (
        "## Summary",
        "### ICE: identity contradiction",
        "### RSE: similarity to gpt-4o",
        "#### By aspect",
        "## ICE × RSE",
        "## Homogenization matrix",
        "## ICE evidence",
        "## Breakdowns",
        "## Costs",
        "## Settings",
    ):
        assert heading in text, heading
    assert "| llama-3-8b | rules |" in text
    assert "[0." in text and "n=59" in text


def test_markdown_escapes_model_text(study: Callable[..., list[Path]]) -> None:
    text = render(build_report(study()), "md")
    assert "window.\\_\\_pwned" in text or "window.__pwned" not in text
    assert "<script>" not in text and "<img" not in text


def test_escape_keeps_one_line_and_no_markup() -> None:
    assert escape("a|b\n<x> *y* [l](u)") == "a\\|b &lt;x&gt; \\*y\\* \\[l\\](u)"
