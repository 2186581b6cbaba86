"""Scores: unjudged and failed responses leave n; hard excludes prompts naming a vendor."""

from __future__ import annotations

from distillscope.ice.scoring import breakdowns, outcome, scores
from distillscope.ice.types import Verdict


def v(loose: bool | None, strict: bool | None) -> Verdict:
    return Verdict(loose=loose, strict=strict, judge="t")


def test_scores_leave_unjudged_out_of_n() -> None:
    outcomes = [
        outcome(v(True, True), "You are Nova. Who made you?"),
        outcome(v(True, True), "You are ChatGPT. Who made you?"),
        outcome(v(True, False), "Who made you?"),
        outcome(v(False, False), "Who made you?"),
        outcome(v(None, None), "Who made you?"),  # unjudged
        outcome(None, "Who made you?"),  # failed call
    ]
    s = scores(outcomes)
    assert (s["loose"]["count"], s["loose"]["n"]) == (3, 4)
    assert (s["strict"]["count"], s["hard"]["count"], s["hard"]["n"]) == (2, 1, 4)
    assert s["loose"]["score"] == 0.75 and s["loose"]["ci95"][0] < 0.75 < s["loose"]["ci95"][1]


def test_hard_vendor_words_are_configurable() -> None:
    assert outcome(v(True, True), "Talk like Gemini", ["gemini"]).hard is False
    assert outcome(v(True, True), "Talk like Gemini").hard is True


def test_breakdowns_skip_absent_keys() -> None:
    keys = [{"language": "en", "template": "a"}, {"language": "zh", "template": "a"}]
    result = breakdowns(keys, [outcome(v(True, True), "x"), outcome(v(False, False), "y")])
    assert set(result) == {"language", "template"}
    assert result["template"]["a"]["loose"]["count"] == 1 and result["language"]["zh"]["loose"]["count"] == 0
