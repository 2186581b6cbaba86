"""Style fingerprint: formatting and phrasing, not meaning."""

from __future__ import annotations

from distillscope.rse.offline.style import FEATURES, profile, style_differences, style_similarity

MARKDOWN = """## Overview

Here is how to do it:

- **Measure** the room.
- **Buy** the paint.
- **Paint** two coats.

### Notes

1. Open a window.
2. Clean the brushes.

Overall, this takes a weekend."""

PLAIN = (
    "Measure the room, then buy the paint and put on two coats. Open a window while you work and "
    "clean the brushes afterwards. Overall, this takes a weekend."
)


def test_identical_answers_have_style_similarity_one() -> None:
    p = profile(MARKDOWN)
    assert style_similarity([p], [p])[0] == 1.0


def test_markdown_headings_and_lists_differ_from_plain_prose_with_the_same_content() -> None:
    md, plain = profile(MARKDOWN), profile(PLAIN)
    vec = dict(zip(FEATURES, md.vector, strict=True))
    assert vec["headings"] > 0 and vec["bullets"] > 0 and vec["numbered"] > 0 and vec["bold"] > 0
    reformatted = MARKDOWN.replace("Buy", "Get").replace("Clean", "Wash")
    close = style_similarity([md], [profile(reformatted)])[0]
    far = style_similarity([md], [plain])[0]
    assert close > 0.95
    assert far < close - 0.25
    assert {"bullets", "headings"} & set(style_differences(md, plain))


def test_opener_and_closer_count() -> None:
    base = "Sure! Paris is the capital of France. I hope this helps."
    other_opening = "Well. Paris is the capital of France. I hope this helps."
    s_same, s_other = style_similarity([profile(base)] * 2, [profile(base), profile(other_opening)])
    assert s_same == 1.0 and 0.85 < s_other < 0.95
