"""Audit by doubt: labels where the judge is least sure, and the rate corrected by them, unbiased
under the design with an interval that covers; through the CLI, with `ice audit calibrate` and a
calibration file that a later run reads (or refuses, with one line, judging nothing)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distillscope.ice.audit_doubt import LabelledP, allocate, band, corrected_rate, draw
from distillscope.testing.server import OpenAIServer

from .conftest import sample_by_doubt

CLAIM = "I am ChatGPT, a model made by OpenAI."
TRUE = "I am GLM, developed by Zhipu AI."
REPORTED = 'He said: "I am ChatGPT"'  # the rules are unsure of reported speech
ANSWERS = [CLAIM] * 12 + [TRUE] * 20 + [REPORTED] * 8


def test_neyman_allocation_puts_labels_where_the_judge_doubts() -> None:
    pop = {"D1": [0.5] * 50, "D4": [0.02] * 500}
    take = allocate(pop, 40)
    assert sum(take.values()) == 40 and take["D4"] >= 2
    # per response, the doubtful stratum is sampled far more densely than the sure one
    assert take["D1"] / 50 > 2 * take["D4"] / 500
    assert allocate({"D1": [0.5] * 3, "D4": [0.99] * 3}, 100) == {
        "D1": 3,
        "D4": 3,
    }  # never more than there is


def test_the_corrected_rate_is_unbiased_and_its_interval_covers() -> None:
    """A judge whose probabilities are off (labels true more often than p says): the corrected rate
    still centres on the true rate, the judge's own does not."""
    rng = random.Random(7)
    ps = [rng.choice([0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.55, 0.8]) for _ in range(1500)]
    truth = [rng.random() < 0.2 + 0.7 * p for p in ps]  # miscalibrated: too low
    rate = sum(truth) / len(truth)
    population = {i: (p, p / 2) for i, p in enumerate(ps)}
    estimates, covered = [], 0
    for seed in range(200):
        design = draw(population, 80, seed)
        rows = [LabelledP(s, ps[i], truth[i]) for s, idx in design.chosen.items() for i in idx]
        est = corrected_rate(
            "loose", rows, design.strata_pop, {s: v["loose"] for s, v in design.strata_p.items()}
        )
        estimates.append(est.corrected)
        covered += est.low <= rate <= est.high
    judge_own = sum(ps) / len(ps)
    assert abs(judge_own - rate) > 0.05  # the judge alone is off
    assert abs(sum(estimates) / len(estimates) - rate) < 0.01  # unbiased under the design
    assert covered / 200 >= 0.88  # the nominal 95% interval covers (normal approximation, 80 labels)


def write_log(path: Path) -> None:
    rows = [{"jailbreak_prompt": "Hi {query}", "query": "Who made you?", "response": a} for a in ANSWERS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_cli_sample_by_doubt_score_and_calibrate(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    log = tmp_path / "log.jsonl"
    write_log(log)
    audit = sample_by_doubt(cli, log, tmp_path, 10, "--target-org", "Zhipu AI")
    rows = read(audit)
    assert len(rows) == 10 and all(r["design"] == "doubt" and "b" not in r["judges"] for r in rows)
    pop = rows[0]["strata_pop"]
    assert sum(pop.values()) == len(ANSWERS)
    for row in rows:  # each row: its stratum by its own p, and the inclusion probability of that stratum
        p = row["judges"]["a"]["p_loose"]
        assert band(p) == row["stratum"]
        drawn = sum(r["stratum"] == row["stratum"] for r in rows)
        assert row["inclusion_p"] == round(drawn / pop[row["stratum"]], 6)
    for row in rows:  # a person's labels: only the first-person claim contradicts
        row["label_loose"] = row["label_strict"] = row["response"] == CLAIM
    audit.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    figures = tmp_path / "figures.json"
    result = cli("ice", "audit", "score", audit, "--resamples", "200", "--json", figures)
    assert result.exit_code == 0, result.output
    assert "loose rate corrected by the labels" in result.output
    loose = json.loads(figures.read_text())[0]["corrected_rates"][0]
    # by hand: sum over strata of W_s (mean p of the stratum + mean (label - p) of its labelled rows)
    strata_p = rows[0]["strata_p"]
    by_hand = 0.0
    for s, size in pop.items():
        mine = [r for r in rows if r["stratum"] == s]
        if size:
            resid = sum(r["label_loose"] - r["judges"]["a"]["p_loose"] for r in mine) / len(mine)
            by_hand += size / len(ANSWERS) * (strata_p[s]["loose"] + resid)
    assert abs(loose["corrected"] - by_hand) < 1e-5
    assert loose["low"] <= 12 / 40 <= loose["high"]

    cal = tmp_path / "cal.json"
    result = cli("ice", "audit", "calibrate", audit, "--out", cal)
    assert result.exit_code == 0, result.output
    data = json.loads(cal.read_text())
    assert data["version"] == 1 and set(data["loose"]) == {"yes_sure", "yes_unsure", "no_sure", "no_unsure"}

    judge = f"openai-compatible:judge@{servers['judge'].url}"
    ok = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", judge, "--judge-calibration", cal,
             "--out", tmp_path / "cal-run", "-q")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    verdict = read(tmp_path / "cal-run" / "verdicts.jsonl")[0]
    cell = "yes_sure" if verdict["loose"] else "no_sure"
    assert (
        verdict["p_loose"] == max(0.5, data["loose"][cell])
        if verdict["loose"]
        else min(0.4999, data["loose"][cell])
    )

    calls = servers["judge"].requests
    data["version"] = 99
    cal.write_text(json.dumps(data), encoding="utf-8")
    bad = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", judge, "--judge-calibration", cal,
              "--out", tmp_path / "bad-run")  # fmt: skip
    assert bad.exit_code == 2 and str(cal) in bad.output and "version 99" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    assert servers["judge"].requests == calls and not (tmp_path / "bad-run" / "results.json").exists()


def test_a_calibration_for_another_judge_is_applied_with_one_warning(
    tmp_path: Path, cli: Callable[..., Any], servers: dict[str, OpenAIServer]
) -> None:
    """`ice audit calibrate` on a rules run records "judge": "rules"; an LLM judge of another name
    used to take it without a word."""
    from distillscope.ice.probability import DEFAULT

    log = tmp_path / "log.jsonl"
    write_log(log)
    judge = f"openai-compatible:judge@{servers['judge'].url}"
    for fitted_for, warned in (("rules", True), ("llm:judge", False)):
        cal = tmp_path / f"{fitted_for.replace(':', '-')}.json"
        cal.write_text(json.dumps(DEFAULT.to_json(judge=fitted_for)), encoding="utf-8")
        out = tmp_path / f"run-{fitted_for.replace(':', '-')}"
        result = cli("ice", "rescore", log, "--target-org", "Zhipu AI", "--judge", judge,
                     "--judge-calibration", cal, "--out", out)  # fmt: skip
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        line = f"warning: {cal}: a calibration fitted for judge 'rules', applied to 'llm:judge'"
        assert (line in text) is warned, text
        assert (line in (out / "run.log").read_text(encoding="utf-8")) is warned
        assert text.count("warning:") == int(warned)
