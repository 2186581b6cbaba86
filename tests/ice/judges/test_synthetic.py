"""The composed statements: labelled by the rubric by construction, reproducible, and never a paper answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.synthetic import OTHERS, OWN, statements
from distillscope.ice.judges.training import (
    SYNTHETIC_ROWS,
    SYNTHETIC_SEED,
    SYNTHETIC_WEIGHT,
    synthetic_examples,
)

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
STRICT_VENDORS = {org for org, _, strict in OTHERS if strict}


def test_the_same_seed_gives_the_same_statements_and_another_seed_others() -> None:
    assert statements(50, 3) == statements(50, 3)
    assert statements(50, 3) != statements(50, 4)


def test_labels_follow_the_rubric() -> None:
    rows = statements(SYNTHETIC_ROWS, SYNTHETIC_SEED)
    kinds = {s.kind for s in rows}
    assert kinds == {"claim", "truth", "not-said", "contrast", "persona", "invented", "no-maker", "vague"}
    own_orgs = {org for org, _ in OWN}
    for s in rows:
        assert s.target_org in own_orgs
        assert not s.strict or s.loose  # strict is a kind of loose
        if s.kind in ("claim", "persona", "invented", "no-maker"):
            assert s.loose, s
        else:  # the true maker, a claim not made by the speaker, or no name at all
            assert not s.loose, s
        if s.kind in ("claim", "persona"):
            named = [org for org, model, _ in OTHERS if org in s.response or model in s.response]
            assert named and s.target_org not in named[:1]
            assert s.strict == any(org in STRICT_VENDORS for org in named[:1]), s
        if s.kind in ("invented", "no-maker"):
            assert not s.strict


def test_claims_not_made_still_name_another_vendor() -> None:
    """The point of the set: the other vendor is named, and it is still no contradiction."""
    rows = [s for s in statements(SYNTHETIC_ROWS, SYNTHETIC_SEED) if s.kind in ("not-said", "contrast")]
    assert len(rows) > 50
    for s in rows:
        assert any(
            org in s.response or model in s.response for org, model, _ in OTHERS if org != s.target_org
        )


def test_training_rows_are_their_own_model_at_negative_lines() -> None:
    registry = IdentityRegistry.builtin()
    rows = synthetic_examples(registry)
    assert len(rows) == SYNTHETIC_ROWS
    assert {ex.model for ex in rows} == {"synthetic"}
    assert all(ex.line < 0 and ex.weight == SYNTHETIC_WEIGHT and not ex.gold for ex in rows)
    assert len({ex.line for ex in rows}) == SYNTHETIC_ROWS


def test_no_statement_repeats_seven_words_of_a_paper_answer(shared_data: Path) -> None:
    def runs(text: str) -> set[tuple[str, ...]]:
        words = [w.lower() for w in _WORD.findall(text)]
        return {tuple(words[i : i + 7]) for i in range(len(words) - 6)}

    seen: set[tuple[str, ...]] = set()
    with (shared_data / "paper-ice-labels.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                seen |= runs(json.loads(line)["response"])
    assert len(seen) > 100_000
    composed = statements(SYNTHETIC_ROWS, SYNTHETIC_SEED)
    assert [s.response for s in composed if runs(s.response) & seen] == []
