"""Logical structure: block layout and the order of steps."""

from __future__ import annotations

from distillscope.rse.offline.structure import order_similarity, outline, structure_similarity

STEPS = [
    "Preheat the oven to 200 degrees.",
    "Whisk the eggs with sugar until pale.",
    "Fold the flour into the egg mixture.",
    "Pour the batter into a greased tin.",
    "Bake for twenty five minutes and let it cool.",
]


def numbered(steps: list[str]) -> str:
    return "To bake the cake:\n\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))


def test_same_steps_in_same_order_score_one() -> None:
    o = outline(numbered(STEPS))
    assert o.layout == "PNNNNN"
    assert len(o.steps) == 5
    assert structure_similarity(o, o) == 1.0


def test_step_order_is_detected() -> None:
    ref = outline(numbered(STEPS))
    reordered = outline(numbered(list(reversed(STEPS))))
    # same layout, same steps: only the order differs
    assert reordered.layout == ref.layout
    assert structure_similarity(ref, reordered) < 0.7
    swapped_pair = outline(numbered([STEPS[1], STEPS[0], *STEPS[2:]]))
    assert structure_similarity(ref, reordered) < structure_similarity(ref, swapped_pair) < 1.0


def test_prose_paragraphs_are_steps_too_and_layout_counts() -> None:
    prose = "\n\n".join(STEPS)
    a, b = outline(prose), outline(numbered(STEPS))
    assert len(a.steps) == 5 and set(a.layout) == {"P"}
    assert order_similarity(a.steps, b.steps) == 1.0
    assert structure_similarity(a, b) < 1.0  # paragraphs are not a numbered list


def test_code_blocks_are_one_block() -> None:
    text = "Use this:\n\n```python\nprint(1)\n\nprint(2)\n```\n\nDone."
    assert outline(text).layout == "PCP"


def test_unrelated_steps_do_not_match() -> None:
    assert (
        order_similarity(outline(numbered(STEPS)).steps, outline("1. Buy milk.\n2. Call Bob.").steps) == 0.0
    )


def _all_pairs_order_similarity(a: list[frozenset[str]], b: list[frozenset[str]]) -> float:
    """The matching as first written: every step of `a` against every unused step of `b`."""
    from distillscope.rse.offline.structure import MATCH_JACCARD, _lis_length

    if not a or not b:
        return 1.0 if not a and not b else 0.0
    matches: list[int] = []
    used: set[int] = set()
    for step in a:
        best, best_j = MATCH_JACCARD, -1
        for j, other in enumerate(b):
            if j in used:
                continue
            jac = len(step & other) / len(step | other)
            if jac >= best:
                best, best_j = jac, j
        if best_j >= 0:
            used.add(best_j)
            matches.append(best_j)
    return _lis_length(matches) / max(len(a), len(b))


def test_indexed_matching_equals_all_pairs() -> None:
    """The prefix-filter index changes the cost of step matching, never its result."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from distillscope.rse.offline.structure import order_similarity

    steps = st.lists(st.frozensets(st.sampled_from("abcdefghijklmnop"), min_size=1, max_size=8), max_size=12)

    @settings(max_examples=300, deadline=None)
    @given(a=steps, b=steps)
    def check(a: list[frozenset[str]], b: list[frozenset[str]]) -> None:
        assert order_similarity(a, b) == _all_pairs_order_similarity(a, b)

    check()
