"""Family members left out of training: does a family's style reach a model the classifier never saw?"""

from __future__ import annotations

import numpy as np

from distillscope.rse.attribution.analysis import (
    MEMBERS_PER_FAMILY,
    attribute,
    checked_members,
    held_out_members,
    member_warnings,
    unchecked_member_warnings,
)
from distillscope.rse.attribution.crossfit import Doc

from .conftest import docs

ALPHA = 0.05


def signed(model: str, style: str, n: int, seed: int, family: str, mark: str) -> list[Doc]:
    """A writer in `style` that signs every answer with its own mark (a word no one else uses)."""
    return [
        Doc(d.model, d.group, d.key, f"{d.text}\n\n{mark} {mark} {mark}", d.family)
        for d in docs(model, style, n, seed, family)
    ]


def test_members_of_families_with_a_shared_style_are_attributed_to_them() -> None:
    family = [
        *docs("a1", "a", 24, 0, "a"),
        *docs("a2", "a", 24, 1, "a"),
        *docs("b1", "b", 24, 2, "b"),
        *docs("b2", "b", 24, 3, "b"),
    ]
    found = attribute(family, {"x": docs("x", "a", 24, 4)}, alpha=ALPHA, folds=4)
    assert {m: r.resembles for m, r in found.held_out_members.items()} == {
        "a1": "a",
        "a2": "a",
        "b1": "b",
        "b2": "b",
    }
    assert member_warnings(found.held_out_members, family, ALPHA) == []


def test_a_member_is_scored_by_classifiers_that_never_saw_it() -> None:
    """a2 writes like family b but signs every answer: seen in training, its mark makes it look
    like a; left out, the mark is an unknown word and its b-like writing shows."""
    family = [
        *docs("a1", "a", 24, 0, "a"),
        *signed("a2", "b", 24, 1, "a", "zzqx"),
        *docs("b1", "b", 24, 2, "b"),
    ]
    found = attribute(family, {"x": docs("x", None, 24, 4)}, alpha=ALPHA, folds=4)
    a = found.fit.families.index("a")
    rows = [i for i, d in enumerate(found.fit.docs) if d.model == "a2"]
    assert float(np.mean(found.fit.probabilities[rows, a])) > 0.6  # out of prompt fold, but a2 was seen
    left_out = found.held_out_members["a2"]
    assert left_out.predicted == "b" and (left_out.probabilities["a"].score or 1.0) < 0.3
    assert "b1" not in found.held_out_members  # its family's only member: nothing left to define b
    # a1, left out, meets a family a defined only by a b-like writer's mark: not attributed to a either
    assert found.held_out_members["a1"].resembles != "a"
    warnings = member_warnings(found.held_out_members, family, ALPHA)
    assert len(warnings) == 2 and "member a2, left out of training, is attributed to b" in warnings[1]


def test_the_check_can_be_skipped_and_leaves_the_decision_alone() -> None:
    family = [*docs("a1", "a", 20, 0, "a"), *docs("a2", "a", 20, 1, "a"), *docs("b1", "b", 20, 2, "b")]
    tests = {"x": docs("x", "a", 20, 3)}
    checked = attribute(family, tests, alpha=ALPHA, folds=4)
    plain = attribute(family, tests, alpha=ALPHA, folds=4, check_members=False)
    assert plain.held_out_members == {} and set(checked.held_out_members) == {"a1", "a2"}
    assert plain.models == checked.models
    again = held_out_members(family, alpha=ALPHA, folds=4, counted=checked.counted, start=checked.fit)
    assert again == checked.held_out_members
    cold = held_out_members(family, alpha=ALPHA, folds=4)  # no start: the same verdicts
    assert {m: r.predicted for m, r in cold.items()} == {m: r.predicted for m, r in again.items()}


def test_at_most_two_members_a_family_are_checked_drawn_by_the_seed_not_the_order() -> None:
    family = [*(d for i in range(3) for d in docs(f"a{i}", "a", 16, i, "a")), *docs("b1", "b", 16, 5, "b")]
    chosen = checked_members(family, seed=0)
    assert len(chosen) == MEMBERS_PER_FAMILY == 2 and chosen <= {"a0", "a1", "a2"}
    assert checked_members(list(reversed(family)), seed=0) == chosen
    assert len(checked_members(family, per_family=None)) == 3
    found = held_out_members(family, alpha=ALPHA, folds=4)
    assert set(found) == chosen
    (skipped,) = {"a0", "a1", "a2"} - chosen
    (note,) = unchecked_member_warnings(found, family)
    assert note.startswith("family a: 2 of its 3 members were checked") and note.endswith(
        f"checked: {skipped}"
    )
