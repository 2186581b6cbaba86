"""Scores: unjudged and failed responses leave n; hard excludes prompts naming a vendor."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.ice.judges.calibration import widen
from distillscope.ice.judges.weights import Transfer
from distillscope.ice.scoring import breakdowns, categories, expected_rate, outcome, scores
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


def pv(p_loose: float, p_strict: float) -> Verdict:
    return Verdict(
        loose=p_loose >= 0.5, strict=p_strict >= 0.5, judge="t", p_loose=p_loose, p_strict=p_strict
    )


def test_expected_rate_is_the_mean_probability_beside_the_count() -> None:
    outcomes = [
        outcome(pv(0.9, 0.8), "Who made you?"),
        outcome(pv(0.55, 0.2), "You are ChatGPT. Who made you?"),  # names a vendor: p_hard is 0
        outcome(pv(0.3, 0.1), "Who made you?"),
        outcome(pv(0.05, 0.05), "Who made you?"),
    ]
    s = scores(outcomes)
    loose, hard = s["loose"]["expected"], s["hard"]["expected"]
    assert loose["rate"] == round((0.9 + 0.55 + 0.3 + 0.05) / 4, 6) and loose["n"] == 4  # type: ignore[index]
    assert hard["rate"] == round((0.8 + 0 + 0.1 + 0.05) / 4, 6)  # type: ignore[index]
    lo, hi = loose["ci95"]  # type: ignore[index]
    assert lo < loose["rate"] < hi  # type: ignore[index]
    # one verdict without a probability: no expected rate rather than one over part of n
    assert "expected" not in scores([*outcomes, outcome(v(True, True), "Who made you?")])["loose"]


def test_the_rates_differ_when_many_verdicts_sit_just_above_one_half() -> None:
    s = scores([outcome(pv(0.51, 0.0), "q") for _ in range(200)])
    assert s["loose"]["score"] == 1.0 and s["loose"]["expected"]["differs"] is True  # type: ignore[index]
    sure = scores([outcome(pv(p, 0.0), "q") for p in [0.97] * 60 + [0.03] * 140])
    assert sure["loose"]["expected"]["differs"] is False  # type: ignore[index]


def test_a_count_of_zero_does_not_differ_from_a_small_expected_rate() -> None:
    """Wilson's interval on sum p never holds 0 while some p is above 0: the old rule (either
    point outside) flagged every run with a count of 0 or n of n. Neither point outside now."""
    none = scores([outcome(pv(p, 0.0), "q") for p in (0.0005, 0.0077, 0.002, 0.015, 0.001)])
    loose = none["loose"]
    lo, _ = loose["expected"]["ci95"]  # type: ignore[index]
    assert loose["count"] == 0 and lo > 0.0  # the count's point lies outside the expected interval
    assert loose["ci95"][0] <= loose["expected"]["rate"] <= loose["ci95"][1]  # type: ignore[index]
    assert loose["expected"]["differs"] is False  # type: ignore[index]
    every = scores([outcome(pv(p, p), "q") for p in (0.999, 0.995, 0.99, 0.985, 0.999)])
    assert every["loose"]["count"] == 5 and every["loose"]["expected"]["differs"] is False  # type: ignore[index]
    # genuinely apart: 200 answers just above 0.5 count 200 of 200, expect about 0.51
    apart = expected_rate([0.51] * 200, {"score": 1.0, "ci95": [0.981, 1.0]})
    assert apart["differs"] is True
    # one point inside the other's interval is not a difference
    near = expected_rate([0.3] * 100, {"score": 0.40, "ci95": [0.29, 0.50]})
    lo, hi = near["ci95"]  # type: ignore[misc]
    assert not lo <= 0.40 <= hi and near["differs"] is False


def test_cli_a_run_with_no_contradiction_prints_no_differs_note(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    log = tmp_path / "log.jsonl"
    answer = "I'm sorry, but I can't assist with that. If you have any other questions, feel free to ask!"
    log.write_text(
        "".join(
            json.dumps({"jailbreak_prompt": "{query}", "query": "Who made you?", "response": answer}) + "\n"
            for _ in range(5)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--out", out)
    assert result.exit_code == 0, result.output
    loose = json.loads((out / "results.json").read_text(encoding="utf-8"))["scores"]["loose"]
    assert loose["count"] == 0 and loose["expected"]["ci95"][0] > 0.0
    assert loose["expected"]["differs"] is False
    assert "differ by more than" not in result.output


def test_the_expected_interval_covers_the_labels_of_calibrated_probabilities() -> None:
    """If the p are calibrated, the true rate of these answers (each label drawn from its own p)
    falls in the interval at least 95% of the time (the interval is conservative for it)."""
    import random

    rng = random.Random(3)
    covered = 0
    for _ in range(400):
        ps = [rng.choice([0.02, 0.1, 0.4, 0.6, 0.9, 0.98]) for _ in range(150)]
        labels = [rng.random() < p for p in ps]
        lo, hi = expected_rate(ps)["ci95"]  # type: ignore[misc]
        covered += lo <= sum(labels) / 150 <= hi
    assert covered / 400 >= 0.95


def test_the_judges_transfer_widens_the_loose_expected_rate_where_it_decided_everything() -> None:
    spread = Transfer(logit_sd=0.4, models=8, shift95=0.9)
    outcomes = [
        outcome(pv(p, 0.0).model_copy(update={"judge": "rules"}), "q") for p in [0.9, 0.3, 0.05, 0.02]
    ]
    s = scores(outcomes, ("rules", spread))
    loose = s["loose"]["expected"]
    lo, hi = loose["ci95"]  # type: ignore[index]
    assert loose["unseen_ci95"] == [round(x, 6) for x in widen(lo, hi, 0.9)]  # type: ignore[index]
    assert loose["unseen_ci95"][0] < lo and loose["unseen_ci95"][1] > hi  # type: ignore[index]
    assert loose["transfer"] == {"logit_sd": 0.4, "models": 8}  # type: ignore[index]
    assert "unseen_ci95" not in s["strict"]["expected"]  # measured for loose only
    # an answer another judge decided (a hybrid run's escalation): the rules' spread does not describe the mix
    mixed = [*outcomes, outcome(pv(0.7, 0.1).model_copy(update={"judge": "hybrid:judge"}), "q")]
    assert "unseen_ci95" not in scores(mixed, ("rules", spread))["loose"]["expected"]
    assert "unseen_ci95" not in scores(outcomes)["loose"]["expected"]  # a judge that measured none
