"""Tiny runs of every benchmark script, so they keep working: a few calls each, and the last
line of output must be one JSON object with the script's figures. No figure is checked here
(timings on a shared CI machine mean nothing); bench/README.md holds the real runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


def run_bench(script: str, *args: str, timeout: float = 120) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) >= 2, "a table, then the JSON line"
    figures = json.loads(lines[-1])
    assert isinstance(figures, dict)
    return figures


def test_throughput_smoke() -> None:
    figures = run_bench(
        "throughput.py", "--latency-ms", "5", "--calls", "24", "--concurrency", "4", "--sequential-calls", "6"
    )
    for key in (
        "calls",
        "latency_ms",
        "concurrency",
        "seconds",
        "sequential_seconds",
        "speedup_vs_sequential",
        "ideal_seconds",
        "efficiency_vs_limit",
        "sequential_measured_calls",
    ):
        assert key in figures
    assert figures["calls"] == 24 and figures["sequential_measured_calls"] == 6
    assert figures["calls_sent"] == 24 and figures["calls_failed"] == 0
    assert figures["server_max_inflight"] <= 4


def test_overhead_smoke() -> None:
    figures = run_bench("overhead.py", "--calls", "40", "--concurrency", "8")
    assert figures["calls"] == 40 and figures["calls_per_second"] > 0
    assert figures["ledger_rows"] == {"ok": 40}
    assert figures["server_requests"] >= 40  # the run, plus the bare-HTTP reference loop


def test_resume_smoke() -> None:
    figures = run_bench("resume.py", "--calls", "30", "--concurrency", "8")
    assert figures["first_run_requests_at_server"] == 30
    assert figures["rerun_requests_at_server"] == 0 and figures["rerun_calls_sent"] == 0
    assert {"rerun_seconds", "rerun_in_process_seconds", "meets_target"} <= set(figures)


def test_judges_smoke() -> None:
    figures = run_bench("judges.py", "--responses", "60", "--pairs", "20", "--no-embeddings", timeout=180)
    assert {
        "rules_responses_per_second",
        "rse_offline_pairs_per_second",
        "embedding_sentences_per_second",
    } <= set(figures)
    for part in ("rules", "rse_offline"):
        assert "skipped" in figures[part] or figures[part]["items"] >= 20  # ran, or says why not
    assert figures["embeddings"] == {"skipped": "--no-embeddings"}


def test_memory_smoke() -> None:
    # --skip-rse: the RSE job loads torch (10 s or more); `python bench/memory.py --models 2
    # --prompts 4` runs that path by hand.
    figures = run_bench("memory.py", "--responses", "200", "--skip-rse", timeout=180)
    assert {
        "ice_rescore_peak_rss_mb",
        "rse_peak_rss_mb",
        "target_mb",
        "ice_meets_target",
        "rse_meets_target",
    } <= set(figures)
    if "skipped" not in figures["ice"]:
        assert figures["ice"]["exit_code"] == 0, figures["ice"].get("error")
        assert figures["ice_rescore_peak_rss_mb"] > 0
    assert figures["rse"] == {"skipped": "--skip-rse"}


@pytest.mark.local_model
def test_local_model_smoke() -> None:
    figures = run_bench("local_model.py", "--max-tokens", "2", "--prompts", "1", "--no-demo", timeout=180)
    assert figures["tokens_per_second"] > 0
    assert figures["demo"] == {"skipped": "--no-demo"}


def test_long_answers_smoke() -> None:
    figures = run_bench(
        "long_answers.py", "--sentences", "20,40", "--all-pairs-max", "40", "--huge-mb", "0.2"
    )
    assert set(figures) >= {"machine", "max_chars", "s20", "s40", "huge"}


def test_ice_throughput_smoke() -> None:
    figures = run_bench(
        "ice_throughput.py", "--budget", "12", "--modes", "grid,fuzz-4", "--latencies", "2,1-5",
        "--concurrency", "4", "--sequential-calls", "2", "--startup-runs", "1", timeout=240,
    )  # fmt: skip
    assert {"cases", "startup_s", "targets", "meets_targets", "load_avg"} <= set(figures)
    assert len(figures["cases"]) == 4  # two modes x two latencies x one concurrency
    for case in figures["cases"]:
        assert case["target_queries"] == 12 and case["calls_failed"] == 0
        assert {"efficiency", "speedup_vs_sequential", "load_before", "wall_s", "ideal_s"} <= set(case)
        assert case["server_max_inflight"] <= 4 + 4  # target lane and mutator lane, 4 each
    fuzz = [c for c in figures["cases"] if c["mode"] == "fuzz-4"]
    assert all(c["mutator_calls"] >= 3 and c["parallel_mutations"] == 4 for c in fuzz)


def test_attribution_controls_smoke(tmp_path: Path) -> None:
    data = REPO / ".." / "shared" / "data" / "mt-bench"
    if not (data / "provenance.json").is_file():
        pytest.skip("needs ../shared/data/mt-bench")
    out = tmp_path / "attribution_controls.json"
    figures = run_bench(
        "attribution_controls.py", "--skip-baseline", "--sample", "12", "--write", str(out), timeout=600
    )
    assert {"splits", "dolly_as_test", "timing"} <= set(figures)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["tables"] and written["command"].startswith("python bench/")


def test_attribution_scores_smoke() -> None:
    if not (REPO / ".." / "shared" / "data" / "mt-bench" / "provenance.json").is_file():
        pytest.skip("needs ../shared/data/mt-bench")
    figures = run_bench("attribution_scores.py", timeout=300)
    assert 2.0 < figures["needed_one"] < figures["needed_holm3"]  # t(0.95, 6) x sqrt(8/7) = 2.08
    assert len(figures["rows"]) == 10  # five scores x two splits
    for row in figures["rows"]:
        assert row["beyond_holm"] <= row["beyond_one_family"] <= row["openai_trained"]
        assert row["controls_beyond_one_family"] <= row["controls"]


def test_banks_smoke() -> None:
    figures = run_bench(
        "banks.py", "--models", "6", "--prompts", "12", "--words", "30", "--memory-models", "7",
        "--memory-prompts", "10", timeout=300,
    )  # fmt: skip
    assert {"machine", "speed", "memory"} <= set(figures)
    assert figures["speed"]["same_result_as_family_form"] is True
    assert {"bank_wall_s", "family_wall_s", "ratio_bank_vs_family", "bank_peak_rss_mb"} <= set(
        figures["speed"]
    )


def test_arena_hard_smoke(tmp_path: Path) -> None:
    """A tiny generated bank in Arena-Hard's layout (bench/banks.py writes it): three models held out."""
    sys.path.insert(0, str(BENCH))
    from banks import bank_models, write_bank

    models = bank_models(10)
    write_bank(tmp_path, models, prompts=12, words=30)
    names = [m for m, _ in models]
    held = [names[0], names[1], names[5]]
    figures = run_bench(
        "arena_hard.py", "--source", str(tmp_path), "--bank-models", ",".join(names),
        "--held-out", ",".join(held), timeout=300,
    )  # fmt: skip
    assert [r["held_out"] for r in figures["rows"]] == held
    assert figures["held_out"] == 3 and figures["bank_models"] == names
    for row in figures["rows"]:
        assert row["vendor"] is not None and set(row["scores"]) >= {row["vendor"]}
        assert row["wall_s"] > 0 and row["members_checked"] >= 1


def test_report_scale_smoke() -> None:
    figures = run_bench("report_scale.py", "--runs", "2", "--prompts", "2", "--skip-baseline")
    assert figures["runs"] == [2] and set(figures["new"]) == {"2"}
    assert figures["new"]["2"]["html_kib"] > 0 and figures["scaling_ratio"] == {"new": 1.0}


def test_judge_ablation_turns_each_check_off() -> None:
    """The full ablation rebuilds the scorer nine times (about ten minutes), too long for the suite; here
    each check it names is really replaced while turned off, and put back after, and a summary renders
    as a docs-site table."""
    sys.path.insert(0, str(BENCH))
    import judge_ablation
    from distillscope.ice.judges.signals import reader

    sys.path.insert(0, str(REPO / "docs"))
    from hooks import render_bench_result

    def current(check: str) -> object:
        if check == "other_maker_list":
            return reader._LIST_NAME
        return getattr(reader.RuleReader, f"_{check}")

    for check in judge_ablation.CHECKS:
        before = current(check)
        with judge_ablation.without(check):
            assert current(check) is not before
        assert current(check) is before
    cols = ["gold_loose", "round3_strict"]
    summary = {
        "full": dict.fromkeys(cols, 0.9),
        "deltas": {"policy": {"gold_loose": 0.01, "round3_strict": -0.02}},
        "checks": {"policy": {"reads": "x", "rubric": "category table"}},
        "paper_rows": 7130,
        "machine": {"date_utc": "2026-12-06 06:00 UTC"},
    }
    page = render_bench_result(judge_ablation.for_docs(summary), "judge_ablation.json")
    assert "| without policy | +0.010 | -0.020 | category table |" in page


def test_judge_paraphrases_smoke() -> None:
    """Every invented answer is judged and every set is scored (the figures are measurements, not
    asserted values)."""
    rows = [
        json.loads(line)
        for line in (BENCH / "data" / "ice-paraphrases.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    figures = run_bench("judge_paraphrases.py")
    assert figures["answers"] == len(rows)
    for part in [*sorted({r["set"].lower() for r in rows}), "all"]:
        for label in ("loose", "strict"):
            assert 0.0 <= figures[f"{part}_{label}"] <= 1.0
    assert isinstance(figures["kinds_missed"], list)


@pytest.mark.local_model
def test_judge_unseen_smoke(tmp_path: Path) -> None:
    """The first answer of a held-out labelled sample of the embedded model through the CLI, joined to
    the labelled one by its hash (each answer costs ~15-25 s here; the script's figures, pooled ones
    included, are the same `measure` of more answers, whatever the budget and the number of seeds)."""
    if not (REPO.parent / "shared" / "data" / "gptfuzz" / "GPTFuzzer.csv").is_file():
        pytest.skip("needs ../shared/data/gptfuzz (the GPTFuzzer seed templates)")
    out = tmp_path / "judge_unseen.json"
    figures = run_bench(
        "judge_unseen.py",
        "--budget",
        "1",
        "--seed",
        "12",
        "--json-out",
        str(out),
        timeout=300,
    )
    assert set(figures["answers_labelled"]) == {"12"}
    assert 0 <= figures["answers_matched"] <= 1
    if figures["answers_matched"]:
        samples = figures["samples"]
        assert (
            sum(s["n"] for name, s in samples.items() if "pooled" not in name) == figures["answers_matched"]
        )
        for s in samples.values():  # the unseen-model interval widens the expected rate's own
            (lo, hi), (wide_lo, wide_hi) = s["expected_ci95"], s["unseen_ci95"]
            assert wide_lo <= lo <= s["expected_loose_rate"] <= hi <= wide_hi
            assert 0.0 <= s["pacc_not_used"] <= 1.0  # the adjusted count, from the shipped build's cross-fit
        assert out.is_file()


@pytest.mark.parametrize(
    "script",
    ["rse_provenance.py", "attribution_controls.py", "attribution_scores.py", "judge_agreement.py",
     "judge_ablation.py", "judge_unseen.py"],
)  # fmt: skip
def test_skips_with_its_reason_without_shared_data(tmp_path: Path, script: str) -> None:
    """A copy of bench/ with no ../shared beside it: one line saying what is missing, then the JSON line."""
    shutil.copytree(BENCH, tmp_path / "repo" / "bench")
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "repo" / "bench" / script)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("skipped: ") and "shared" in lines[0]
    assert json.loads(lines[1]) == {"skipped": lines[0].removeprefix("skipped: ")}
