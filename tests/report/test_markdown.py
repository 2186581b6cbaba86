"""The Markdown report: the same tables as the page, model text rendered inert."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from distillscope.report import build_report, render
from distillscope.report.markdown import code, escape


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
    # The hostile response (a contradiction, so it is in the evidence) is shown, as inert text.
    assert "&lt;script&gt;window.\\_\\_pwned = 1&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;/pre&gt;&lt;/details&gt;&lt;b&gt;bold&lt;/b&gt;" in text
    assert "window.__pwned" not in text  # Markdown emphasis escaped too
    assert "<script>" not in text and "<img" not in text and "<b>bold</b>" not in text


def test_escape_keeps_one_line_and_no_markup() -> None:
    assert escape("a|b\n<x> *y* [l](u)") == "a\\|b &lt;x&gt; \\*y\\* \\[l\\](u)"


def test_markdown_contrast_table(study: Callable[..., list[Path]]) -> None:
    text = render(build_report(study(ice=False, matrix=False)), "md")
    block = text.split("#### Contrast with an independent panel", 1)[1]
    assert "| Model | Overall | Style | Logic | Content | embedding (raw) |" in block
    assert "| glm-4-plus | 0.33 [0.10, 0.53] n=24 | 0.30 [0.10, 0.50] n=24 |" in block


def test_escape_writes_control_and_format_characters_visibly() -> None:
    assert escape("a\x1b[2Jb\x00c\u202ed\x07") == "a\\x1b\\[2Jb\\x00c\\u202ed\\x07"


def test_code_span_holds_backticks_and_line_breaks() -> None:
    assert code("runs/ice") == "`runs/ice`"
    assert code("a`b") == "``a`b``"
    assert code("x``\n# h`") == "``` x`` # h` ```"
    assert code("r\x1b]0;T") == "`r\\x1b]0;T`"
