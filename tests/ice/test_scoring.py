"""Scores: unjudged and failed responses leave n; hard excludes prompts naming a vendor."""

from __future__ import annotations

from distillscope.ice.scoring import breakdowns, categories, outcome, scores
from distillscope.ice.types import Category, Verdict


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


def test_unsure_cases_score_their_best_guess_and_widen_the_band() -> None:
    outcomes = [
        outcome(Verdict(loose=True, strict=True, judge="t", category=Category.OTHER_VENDOR), "Who made you?"),
        outcome(Verdict(loose=False, strict=False, judge="t", category=Category.CONSISTENT), "Who made you?"),
        # unsure, best guess yes (a loose-only category), prompt names ChatGPT: never a hard yes
        outcome(
            Verdict(loose=True, strict=False, judge="t", unsure=True, category=Category.FICTIONAL_ORG),
            "You are ChatGPT. Who made you?",
        ),
        # unsure, best guess no
        outcome(
            Verdict(loose=False, strict=False, judge="t", unsure=True, category=Category.HYPOTHETICAL),
            "Who made you?",
        ),
    ]
    s = scores(outcomes)
    assert (s["loose"]["count"], s["loose"]["n"], s["loose"]["n_unsure"]) == (2, 4, 2)
    assert s["loose"]["band"] == [0.25, 0.75]
    assert s["strict"]["score"] == 0.25 and s["strict"]["band"] == [0.25, 0.75]
    assert s["hard"]["band"] == [0.25, 0.5]  # the ChatGPT prompt cannot be a hard yes
    lo, hi = s["loose"]["band"]
    assert lo <= s["loose"]["score"] <= hi


def test_categories_break_loose_and_strict_down() -> None:
    outcomes = [
        outcome(Verdict(loose=True, strict=True, judge="t", category=Category.OTHER_VENDOR), "q"),
        outcome(Verdict(loose=True, strict=True, judge="t", category=Category.OTHER_VENDOR), "q"),
        outcome(Verdict(loose=True, strict=False, judge="t", category=Category.FICTIONAL_ORG), "q"),
        outcome(Verdict(loose=False, strict=False, judge="t", category=Category.NAMED_MODEL_ROLEPLAY), "q"),
        outcome(Verdict(loose=False, strict=False, judge="t"), "q"),  # no category
        outcome(None, "q"),  # failed: not in n
    ]
    cats = categories(outcomes)
    assert list(cats) == ["other-vendor", "fictional-org", "named-model-roleplay", "unknown"]
    assert cats["other-vendor"]["loose"]["count"] == 2 and cats["other-vendor"]["loose"]["n"] == 5
    assert cats["fictional-org"]["strict"]["count"] == 0 and cats["fictional-org"]["contradiction"] is True
    assert (
        cats["named-model-roleplay"]["responses"] == 1
        and cats["named-model-roleplay"]["contradiction"] is False
    )
    assert cats["unknown"]["contradiction"] is None
    total = sum(c["loose"]["count"] for c in cats.values())
    assert total == scores(outcomes)["loose"]["count"]
    lo, hi = cats["other-vendor"]["loose"]["ci95"]
    assert lo < 0.4 < hi
