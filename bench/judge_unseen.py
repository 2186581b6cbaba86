"""The ICE judge on a model the project has never seen: SmolLM2-135M-Instruct, the embedded demo model.

The default judge is trained on the paper's answers of eight models and on audits of them. Its
leave-one-model-out figures (`judge_agreement.py`) leave one of those models out but keep the paper's
setting. Here the model is new: another maker (Hugging Face) and size (135M parameters), run through the CLI
as a user runs it. It answers the paper's 50 identity questions inside GPTFuzzer's 77 seed templates, in
seeded grid samples of 160 (seeds 11 to 18; a pair of template and question drawn by an earlier seed is
labelled once, under that seed). Seeds 12 to 18 were drawn with the judge frozen: they are the held-out ones.
Two annotators labelled every answer under ice-gold's rubric; each labelled half of a sample and 10 of the
other half (seeds 14 to 18: a third checked 20 more, every contradiction among them).
`bench/data/ice-audit-smollm2*.jsonl` hold their labels and a SHA-256 prefix of each answer, no
text. Printed per sample and pooled: loose and strict accuracy (Wilson 95%) beside the accuracy of
a judge that never calls a contradiction (contradictions are rare here), how many audited contradictions the
judge found and how many it raised wrongly, ECE, accuracy with the 10% least certain answers escalated to a
perfect judge, and the expected loose rate (mean p_loose) against the audited one, with the two intervals
a run reports for it (Wilson's, and the unseen-model one widened by the shipped weights' transfer spread) and
whether each holds the audited rate; beside it, the adjusted count (PACC: (mean p - fpr) / (tpr - fpr), with the
shipped build's own cross-fitted means; tried, not used). Each figure has its n.

    python bench/judge_unseen.py [--seed 12 --seed 13] [--run 11=DIR ...] [--budget N]

Without --run it runs the command below into a temporary directory, once per seed (about 30 minutes each on
2 cores; `--budget N` generates the first N answers of the same seeded sample). With it, it reads an earlier
run. llama.cpp answers deterministically for a given build and CPU; answers whose hash differs from the
labelled one are left out, and the figures say how many were matched.

    distillscope ice run --target local:smollm2 --mode grid --templates ../shared/data/gptfuzz/GPTFuzzer.csv \
        --probes <the paper's 50 questions> --budget 160 --seed SEED --out DIR --quiet
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED_DATA, emit_json, emit_skipped, machine_info
from distillscope.ice.judges.calibration import widen
from distillscope.ice.judges.hybrid import Escalation
from distillscope.ice.judges.weights import builtin_weights
from distillscope.stats.intervals import paired_difference, proportion, wilson
from judge_agreement import GOLD, ece, pacc_means

DATA = REPO / "bench" / "data"
LABELS = {
    11: DATA / "ice-audit-smollm2.jsonl",
    12: DATA / "ice-audit-smollm2-seed12.jsonl",
    13: DATA / "ice-audit-smollm2-seed13.jsonl",
    14: DATA / "ice-audit-smollm2-seed14.jsonl",
    15: DATA / "ice-audit-smollm2-seed15.jsonl",
    16: DATA / "ice-audit-smollm2-seed16.jsonl",
    17: DATA / "ice-audit-smollm2-seed17.jsonl",
    18: DATA / "ice-audit-smollm2-seed18.jsonl",
}
# Drawn with the judge frozen and never used to change it; seed 11's errors were read (round 11).
HELD_OUT = (12, 13, 14, 15, 16, 17, 18)
PAPER = SHARED_DATA / "paper-ice-labels.jsonl"
SEEDS = SHARED_DATA / "gptfuzz" / "GPTFuzzer.csv"
BUDGET = 160

Matched = list[tuple[dict[str, Any], dict[str, Any]]]


def answer_hash(text: str) -> str:
    """What the labels file keeps of an answer: enough to tell it is the same one, not its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_probes(path: Path) -> None:
    """The paper's 50 identity questions, in the order they first appear in its labels, as a probes file."""
    seen: dict[str, None] = {}
    for line in PAPER.read_text(encoding="utf-8").splitlines():
        if line.strip():
            seen.setdefault(json.loads(line)["query"].strip(), None)
    with path.open("w", encoding="utf-8") as fh:
        for k, question in enumerate(seen):
            lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in question) else "en"
            fh.write(
                json.dumps({"id": f"paper-{k:02d}-{lang}", "question": question, "language": lang}) + "\n"
            )


def run_ice(out: Path, budget: int, seed: int) -> None:
    probes = out.parent / "paper-probes.jsonl"
    write_probes(probes)
    cmd = [
        sys.executable, "-m", "distillscope", "ice", "run", "--target", "local:smollm2", "--mode", "grid",
        "--templates", str(SEEDS), "--probes", str(probes), "--budget", str(budget), "--seed", str(seed),
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"ice run (seed {seed}) failed (exit {done.returncode}): {done.stderr[-2000:]}")


def read_run(run: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Each answer of the run with its verdict, by (template id, probe id): what the labels are joined on (a
    smaller budget draws the same pairs, at other positions)."""
    responses = {
        r["index"]: r
        for r in map(json.loads, (run / "responses.jsonl").read_text(encoding="utf-8").splitlines())
    }
    rows = {}
    for verdict in map(json.loads, (run / "verdicts.jsonl").read_text(encoding="utf-8").splitlines()):
        answer = responses[verdict["index"]]
        if answer.get("response") is not None:
            rows[(answer["template_id"], answer["probe_id"])] = {**verdict, "response": answer["response"]}
    return rows


def read_labels(seed: int) -> list[dict[str, Any]]:
    return [json.loads(x) for x in LABELS[seed].read_text(encoding="utf-8").splitlines() if x.strip()]


def join(answers: dict[tuple[str, str], dict[str, Any]], labels: list[dict[str, Any]]) -> Matched:
    """The run's answers that are the labelled ones: same template, question and text hash."""
    pair = {(g["template_id"], g["probe_id"]): g for g in labels}
    return [
        (answer, pair[key])
        for key, answer in answers.items()
        if key in pair and answer_hash(answer["response"]) == pair[key]["sha256"]
    ]


def escalated_accuracy(p: np.ndarray, ok: np.ndarray, share: float) -> float:
    """Accuracy when the answers `--escalate share` would send (the product's own choice) are decided by a
    perfect judge."""
    fixed = ok.copy()
    fixed[Escalation(fraction=share).select([float(x) for x in p])] = True
    return float(fixed.mean())


def shipped_means() -> tuple[float, float] | None:
    """The PACC constants of the shipped build: its training set's loose cross-fit (None without
    ice-gold's strata)."""
    from distillscope.ice.judges.training import AUDIT_FILES, load_examples

    strata = GOLD / "strata.json"
    if not strata.is_file():
        return None
    pop = json.loads(strata.read_text(encoding="utf-8"))["strata_pop"]
    audits = [GOLD / "dev-gold.jsonl", *(DATA / name for name in AUDIT_FILES)]
    return pacc_means(load_examples(PAPER, audits), {str(k): int(v) for k, v in pop.items()})


def overruled_reader(verdict: dict[str, Any]) -> bool:
    """Whether the scorer's verdict went against the rule reader's (RulesJudge.verdict notes it)."""
    return str(verdict.get("note") or "").startswith("the scorer overruled the rules' reading")


def measure(matched: Matched, means: tuple[float, float] | None = None) -> dict[str, Any]:
    """Every figure of one set of audited answers, each with its n and, where it is a proportion, a
    Wilson 95% interval; with `means`, the adjusted count (PACC) too."""
    p = np.array([a["p_loose"] for a, _ in matched])
    y = np.array([bool(g["gold_loose"]) for _, g in matched])
    ok_loose = np.array([a["loose"] == g["gold_loose"] for a, g in matched])
    ok_strict = np.array([a["strict"] == g["gold_strict"] for a, g in matched])
    judged = np.array([bool(a["loose"]) for a, _ in matched])
    n, k = len(matched), int(y.sum())
    err, bins = ece(p, y.astype(float), np.ones(n))
    expected_ci = wilson(float(p.sum()), n)
    spread = builtin_weights().heads["loose"].transfer
    unseen = None if spread is None else widen(*expected_ci, spread.shift95)
    sure = [(a, g) for a, g in matched if g["sure"]]
    # the verdicts where the scorer overruled the rule reader (its note says so), and how many of them were right
    overruled = [a["loose"] == g["gold_loose"] for a, g in matched if overruled_reader(a)]
    return {
        "n": n,
        "loose": proportion(int(ok_loose.sum()), n),
        "strict": proportion(int(ok_strict.sum()), n),
        "loose_10pct_escalated": round(escalated_accuracy(p, ok_loose, 0.10), 6),
        "ece": round(err, 4),
        "ece_bins": [[round(v, 4) for v in b[:3]] + [b[3]] for b in bins],
        "audited_loose_rate": proportion(k, n),
        "expected_loose_rate": round(float(p.mean()), 6),
        "pacc_not_used": None
        if means is None
        else round(min(1.0, max(0.0, (float(p.mean()) - means[1]) / (means[0] - means[1]))), 6),
        "judged_loose_rate": round(float(judged.mean()), 6),
        # accuracy alone can flatter a judge where contradictions are rare: what it finds, what it raises wrongly,
        # and the accuracy of a judge that never calls a contradiction
        "contradictions_found": proportion(int((judged & y).sum()), k),
        "false_alarms": int((judged & ~y).sum()),
        "consistent_answers": n - k,
        "never_contradiction_accuracy": round(float(1 - y.mean()), 6),
        "expected_minus_audited": paired_difference(list(p), list(y.astype(float))),
        # the intervals a run reports for its expected rate: Wilson on (sum p, n), and the one allowing for
        # the judge's error on a model it was not built from (the shipped weights' transfer spread)
        "expected_ci95": [round(x, 6) for x in expected_ci],
        "unseen_ci95": None if unseen is None else [round(x, 6) for x in unseen],
        "overruled_reader": {"n": len(overruled), "right": sum(overruled)},
        "sure_rows_not_accuracy": {
            "n": len(sure),
            "loose": round(float(np.mean([a["loose"] == g["gold_loose"] for a, g in sure])), 6)
            if sure
            else None,
        },
    }


def interval(score: dict[str, Any]) -> str:
    lo, hi = score["ci95"]
    return f"[{lo:.3f}, {hi:.3f}]"


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    """One column of the printed table (and of the docs page)."""
    gap = f["expected_minus_audited"]
    lo_gap, hi_gap = gap["ci95"]  # none from a single matched answer (a --budget smoke run on another build)
    gap_ci = "no interval" if lo_gap is None or hi_gap is None else f"[{lo_gap:+.3f}, {hi_gap:+.3f}]"
    found = f["contradictions_found"]
    return [
        ("loose accuracy [95%]", f"{f['loose']['score']:.3f} {interval(f['loose'])}"),
        ("  a judge that never calls one", f"{f['never_contradiction_accuracy']:.3f}"),
        ("strict accuracy [95%]", f"{f['strict']['score']:.3f} {interval(f['strict'])}"),
        ("audited contradictions found", f"{found['count']} of {found['n']}"),
        ("false alarms", f"{f['false_alarms']} of {f['consistent_answers']} consistent"),
        ("loose, 10% least certain escalated", f"{f['loose_10pct_escalated']:.3f}"),
        ("ECE (10 bins)", f"{f['ece']:.3f}"),
        ("audited loose rate [95%]", f"{f['audited_loose_rate']['score']:.3f} {interval(f['audited_loose_rate'])}"),
        ("expected (mean p_loose) / judged", f"{f['expected_loose_rate']:.3f} / {f['judged_loose_rate']:.3f}"),
        ("expected - audited [95%]", f"{gap['score']:+.3f} {gap_ci}"),
        ("adjusted count PACC (not used)", "—" if f["pacc_not_used"] is None else f"{f['pacc_not_used']:.3f}"),
        ("expected's 95% CI, holds audited", _holds(f["expected_ci95"], f["audited_loose_rate"]["score"])),
        ("unseen-model interval, holds audited", _holds(f["unseen_ci95"], f["audited_loose_rate"]["score"])),
        ("scorer overruled the reader: right / wrong", f"{f['overruled_reader']['right']} / {f['overruled_reader']['n'] - f['overruled_reader']['right']}"),
        ("sure rows only (not accuracy)", f"{f['sure_rows_not_accuracy']['loose'] or 0:.3f} of n={f['sure_rows_not_accuracy']['n']}"),
    ]  # fmt: skip


def _holds(bounds: list[float] | None, rate: float) -> str:
    if bounds is None:
        return "—"
    return f"[{bounds[0]:.3f}, {bounds[1]:.3f}] {'yes' if bounds[0] <= rate <= bounds[1] else 'no'}"


def parse_runs(specs: list[str]) -> dict[int, Path]:
    runs = {}
    for spec in specs:
        seed, sep, path = spec.partition("=")
        if not sep or not seed.isdigit() or int(seed) not in LABELS:
            sys.exit(f"--run {spec!r}: expected SEED=DIR with SEED one of {sorted(LABELS)}")
        runs[int(seed)] = Path(path)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--seed", type=int, action="append", choices=sorted(LABELS),
        help="a labelled sample to measure (repeatable; default: all of them)",
    )  # fmt: skip
    ap.add_argument(
        "--run", action="append", default=[], metavar="SEED=DIR",
        help="an earlier run of the command for that seed (default: run it now)",
    )  # fmt: skip
    ap.add_argument(
        "--budget", type=int, default=BUDGET,
        help=f"answers to generate per seed (default {BUDGET}); a smaller budget draws the first of the same seeded sample",
    )  # fmt: skip
    ap.add_argument("--json-out", type=Path, default=REPO / "bench" / "results" / "judge_unseen.json")
    args = ap.parse_args()
    if not 1 <= args.budget <= BUDGET:
        sys.exit(f"--budget must be from 1 to {BUDGET}")
    for needed in (PAPER, SEEDS):
        if not needed.is_file():
            emit_skipped(f"{needed} not found: this benchmark needs ../shared/data beside the repository")
            return
    runs = parse_runs(args.run)
    seeds = sorted(set(args.seed or LABELS) | set(runs))
    labels = {seed: read_labels(seed) for seed in seeds}
    matched: dict[int, Matched] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            run = runs.get(seed)
            if run is None:
                run = Path(tmp) / f"run{seed}"
                run_ice(run, args.budget, seed)
            matched[seed] = join(read_run(run), labels[seed])
    labelled = {seed: len(rows_) for seed, rows_ in labels.items()}
    # no match is reported, not an error: the labels stand for the answers they were given on
    if not any(matched.values()):
        print("none of the runs' answers is a labelled one (another llama.cpp build or CPU?)")
        emit_json({"benchmark": "judge_unseen", "answers_labelled": labelled, "answers_matched": 0})
        return
    means = shipped_means()
    samples = {f"seed {seed}": measure(m, means) for seed, m in matched.items() if m}
    pooled = [pair for m in matched.values() for pair in m]
    held_out = [pair for seed in HELD_OUT for pair in matched.get(seed, [])]
    if len([seed for seed in HELD_OUT if matched.get(seed)]) > 1:
        samples["held out, pooled"] = measure(held_out, means)
    if len(samples) > 1:
        samples["all, pooled"] = measure(pooled, means)
    columns = list(samples)
    table = [rows(f) for f in samples.values()]
    names = [name for name, _ in table[0]]
    width = max(map(len, names))
    print(
        f"The ICE judge on a model it never saw: SmolLM2-135M-Instruct, "
        f"{len(pooled)} of {sum(labelled.values())} labelled answers"
    )
    print("  " + " " * width + "".join(f"  {c:<24}" for c in columns))
    for i, name in enumerate(names):
        print(f"  {name.ljust(width)}" + "".join(f"  {col[i][1]:<24}" for col in table))
    figures: dict[str, Any] = {
        "model": "local:smollm2 (SmolLM2-135M-Instruct, Hugging Face)",
        "answers_labelled": labelled,
        "answers_matched": len(pooled),
        "held_out_seeds": list(HELD_OUT),
        "samples": samples,
        "machine": machine_info(),
    }
    page = {  # the shape docs/hooks.py renders on the docs site (bench/results/*.json)
        "title": "ICE default judge on a model it never saw (SmolLM2-135M-Instruct)",
        "command": "python bench/judge_unseen.py",
        "generated": figures["machine"]["date_utc"][:10],
        "tables": [
            {
                "title": f"{len(pooled)} answers (the paper's questions in GPTFuzzer's seed templates), every one audited; 95% intervals",
                "columns": ["measure", *columns],
                "rows": [[name, *(col[i][1] for col in table)] for i, name in enumerate(names)],
            }
        ],
        "notes": [
            "Nothing of this model was trained on or tuned to: another maker (Hugging Face), another size (135M).",
            "Seeds 12 to 18 were drawn with the judge frozen and changed nothing: the held-out pool is the figure to quote. Seed 11's errors were read in round 11.",
            "Contradictions are rare here, so accuracy alone flatters the judge: compare it with a judge that never calls one.",
        ],
        "figures": figures,
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(page, indent=2) + "\n", encoding="utf-8")
    emit_json({"benchmark": "judge_unseen", **{k: v for k, v in figures.items() if k != "machine"}})


if __name__ == "__main__":
    main()
