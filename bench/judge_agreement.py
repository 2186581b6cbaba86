"""Judge agreement: how often the default ICE judge is right, measured on models it was not trained on.

The default judge (`--judge rules`) is signals -> scorer -> calibration, trained on the paper's
labels and the audited rows (distillscope/ice/judges/training.py). A figure on rows it was trained
on is not accuracy, so the headline is **leave-one-model-out (LOMO)**: for each model m, the scorer
and its calibration are rebuilt without any row of m (paper labels and audited labels), and m's
audited rows are scored. Reported:

1. LOMO on ../shared/data/ice-gold, stratum-weighted to all 8,000 complete rows as its README says
   (`distillscope.ice.audit`, 95% stratified-bootstrap intervals): loose / strict accuracy and rate,
   overall and per model (each weighted by its own strata), beside the paper's GPT-4o-mini labels and
   the 0.1.0 rules judge (tests/ice/data/rules-0.1.0-ice-gold.json).
2. LOMO on the other audits (bench/data/ice-audit-*.jsonl): the weighted strata, and the rows of
   models or strata outside the design as a plain share; beside the paper's GPT-4o-mini labels of the
   same rows where the strata are weighted. The audits in training.AUDIT_FILES are trained on, so
   each of their figures, like ice-gold's, is leave-one-model-out; `UNTRAINED_AUDITS` never are.
   The untrained audits are also pooled (each model's paper positives and negatives one stratum
   across rounds): the issue's checks on unseen rows, namely loose and strict accuracy, 10%
   escalated, ECE and the expected rate against the audited one, each with its n and interval.
3. Calibration: the reliability diagram (a PNG, path printed) and its expected calibration error
   (ECE, population-weighted, 10 bins); the expected loose rate (mean p_loose) against the audited
   rate, pooled and per model: each model's whole run, every answer scored by the build without it,
   against all of its round audits (the error of one run's expected rate, which is what a user reads),
   with two prior-shift estimates beside it (tried, not used: EM re-weighting, and the adjusted
   count PACC with its true- and false-positive means from the build's own cross-fit), and whether the intervals a run
   reports hold the audited rate: the expected rate's Wilson interval, and its unseen-model interval
   widened by the transfer spread the build without the model measured on the other models.
4. Risk-coverage: accuracy when the k% least certain answers (k = 0, 2, 5, 10, 15, 20; a share of
   the population) go to a perfect second judge.
5. In-sample (not accuracy): the shipped weights on the rows they were trained on.
6. Where the scorer's leave-one-model-out verdict went against the rule reader's, and how often rightly
   (audited answers, per group of audits): what the scorer adds to the reader on models it did not see.
7. Speed of the shipped judge over every row of the paper (answers per CPU-second).

It writes bench/results/judge_agreement.json (tables for the docs site) and ends with one JSON line.
The paper replay (`ice rescore --judge recorded`, exact) is tests/ice/test_rescore.py.

    python bench/judge_agreement.py [--resamples 2000] [--png bench/results/judge_reliability.png]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED_DATA, emit_json, emit_skipped, machine_info
from distillscope.ice.audit import AuditSample, JudgeAudit, Judged, LabelledRow, audit_judge, load_gold
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.calibration import widen
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.judges.signals.features import SIGNALS
from distillscope.ice.judges.training import (
    AUDIT_FILES,
    Example,
    cross_fitted,
    load_examples,
    lomo_builds,
    probabilities,
)
from distillscope.ice.judges.weights import Transfer, builtin_weights
from distillscope.ice.templates import fill_template
from distillscope.ice.types import JudgeItem, TargetIdentity
from distillscope.stats.intervals import wilson

LABELS = SHARED_DATA / "paper-ice-labels.jsonl"
GOLD = SHARED_DATA / "ice-gold"
BASELINE = REPO / "tests" / "ice" / "data" / "rules-0.1.0-ice-gold.json"
# the audits the shipped scorer trains on (training.AUDIT_FILES), measured leave-one-model-out like ice-gold
AUDITS = [REPO / "bench" / "data" / name for name in AUDIT_FILES]
# audits measured but never trained on: a fresh audit stays here until the change it checks is decided (rounds 9
# and 10 were here when training on rounds 4-8 was decided; round 11 was drawn after that: bench/README.md,
# "Judge round 9"; rounds 12 and 13 were drawn before judge round 10 changed anything, rounds 14 and 15 after it
# had decided to change nothing)
UNTRAINED_AUDITS: list[Path] = [
    REPO / "bench" / "data" / f"ice-audit-round{n}.jsonl" for n in (11, 12, 13, 14, 15)
]
RESULTS = REPO / "bench" / "results"
KS = (0, 2, 5, 10, 15, 20)
# a stratum of an audit drawn by round: the round's label, then the paper's loose label ("R12-P", pooled "Rheld-N")
ROUND_STRATUM = re.compile(r"R[0-9A-Za-z]+-[PN]")
BINS = 10


def stratified_mean(
    values: np.ndarray, strata: Sequence[str], pop: dict[str, int], resamples: int, seed: int
) -> tuple[float, float, float]:
    """Population-weighted mean of `values` over sampled rows of `strata`, with a 95% stratified
    bootstrap interval (the computation of distillscope.ice.audit, for any per-row value)."""
    rng = np.random.default_rng(seed)
    total = sum(pop.values())
    point, reps = 0.0, np.zeros(resamples)
    for s in sorted(set(strata)):
        idx = np.array([i for i, x in enumerate(strata) if x == s])
        share = pop[s] / total
        point += share * values[idx].mean()
        draw = rng.integers(0, len(idx), size=(resamples, len(idx)))
        reps += share * values[idx][draw].mean(axis=1)
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return float(point), float(lo), float(hi)


def weighted_sample(
    gold_rows: list[dict[str, Any]], pop: dict[str, int], labels: list[dict[str, Any]]
) -> AuditSample:
    group_pop: dict[str, dict[str, int]] = {}
    return AuditSample(
        [
            LabelledRow(
                key=r["line"], stratum=r["stratum"], loose=r["gold_loose"], strict=r["gold_strict"],
                category=r["category"], group=labels[r["line"]]["model"], sure=r["sure"],
            )
            for r in gold_rows
            if r["stratum"] in pop
        ],
        dict(pop),
        group_pop,
    )  # fmt: skip


def split_design(
    rows: list[dict[str, Any]], pop: dict[str, int], labels: list[dict[str, Any]]
) -> list[tuple[str, list[dict[str, Any]], dict[str, int] | None]]:
    """An audit file's rows by how they were drawn: the ice-gold strata (weighted by strata.json);
    round strata (`R3-P` / `R3-N`, `R4-P` / `R4-N`, ...: the paper's loose label, per model; weighted by each
    model's counts of paper positives and negatives, complete runs only); anything else as a plain share."""
    design_rows = [r for r in rows if r["stratum"] in pop]
    by_label = [
        r for r in rows if ROUND_STRATUM.fullmatch(str(r["stratum"])) and labels[r["line"]]["complete_run"]
    ]
    rest = [r for r in rows if r not in design_rows and r not in by_label]
    label_pop: dict[str, int] = {}
    for round_ in sorted({str(r["stratum"]).split("-")[0] for r in by_label}):
        for line in labels:
            if line["complete_run"]:
                key = f"{line['model']}|{round_}-{'P' if line['loose'] else 'N'}"
                label_pop[key] = label_pop.get(key, 0) + 1
    by_label = [{**r, "stratum": f"{labels[r['line']]['model']}|{r['stratum']}"} for r in by_label]
    label_pop = {k: v for k, v in label_pop.items() if any(r["stratum"] == k for r in by_label)}
    return [
        ("ice-gold strata, weighted", design_rows, pop),
        ("paper label x model strata, weighted", by_label, label_pop),
        ("plain share", rest, None),
    ]


def ece(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, list[list[float]]]:
    """Weighted expected calibration error over BINS equal-width bins, and the bins (mean p, rate,
    weight share, rows)."""
    edges = np.linspace(0, 1, BINS + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, BINS - 1)
    total, err, bins = w.sum(), 0.0, []
    for b in range(BINS):
        m = which == b
        if not m.any():
            continue
        wb = w[m].sum()
        mp, my = float(np.average(p[m], weights=w[m])), float(np.average(y[m], weights=w[m]))
        err += wb / total * abs(mp - my)
        bins.append([mp, my, float(wb / total), int(m.sum())])
    return float(err), bins


def calibration(
    p: np.ndarray, y: np.ndarray, strata: Sequence[str], pop: dict[str, int], resamples: int, seed: int
) -> dict[str, Any]:
    """ECE with its bins, and the expected (mean p), thresholded and audited rates and their gap, each
    population-weighted with a 95% stratified bootstrap interval."""
    counts: dict[str, int] = {}
    for s in strata:
        counts[s] = counts.get(s, 0) + 1
    w = np.array([pop[s] / counts[s] for s in strata])
    err, bins = ece(p, y, w)
    return {
        "ece": err,
        "bins": bins,
        "weights": w,
        "expected": stratified_mean(p, strata, pop, resamples, seed),
        "thresholded": stratified_mean((p >= 0.5).astype(float), strata, pop, resamples, seed),
        "audited": stratified_mean(y, strata, pop, resamples, seed),
        "gap": stratified_mean(p - y, strata, pop, resamples, seed),
    }


def pooled_rounds(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The rows of audits drawn by round strata (`R12-P`, ...), pooled: each model's paper positives and
    negatives one stratum across the rounds (`Rheld-P`, `Rheld-N`), as they sample one population."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if ROUND_STRATUM.fullmatch(str(row["stratum"])):
                    rows.append({**row, "stratum": "Rheld-" + row["stratum"][-1]})
    return rows


def escalated(
    sample: AuditSample, p: dict[int, tuple[float, float]], k: float
) -> tuple[dict[int, Judged], int]:
    """Verdicts at p >= 0.5, with the least certain rows (|p_loose - 0.5| smallest) replaced by
    their audited labels until they stand for k% of the population."""
    rows = [r for r in sample.rows if r.stratum in sample.strata_pop]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.stratum] = counts.get(r.stratum, 0) + 1
    weight = {r.key: sample.strata_pop[r.stratum] / counts[r.stratum] for r in rows}
    total = sum(weight.values())
    order = sorted(rows, key=lambda r: (abs(p[r.key][0] - 0.5), r.key))
    out = {r.key: Judged(p[r.key][0] >= 0.5, p[r.key][1] >= 0.5) for r in rows}
    used, sent = 0.0, 0
    for r in order:
        if used >= k / 100 * total - 1e-9:
            break
        out[r.key] = Judged(r.loose, r.strict)
        used += weight[r.key]
        sent += 1
    return out, sent


def plot(bins: list[list[float]], err: float, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
    ax.plot([b[0] for b in bins], [b[1] for b in bins], marker="o")
    for b in bins:
        ax.annotate(str(b[3]), (b[0], b[1]), fontsize=7, xytext=(3, -9), textcoords="offset points")
    ax.set_xlabel("p_loose (leave-one-model-out)")
    ax.set_ylabel("audited loose rate (population-weighted)")
    ax.set_title(f"Reliability of p_loose, ECE {err:.3f}", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def prior_shift(p: np.ndarray, prior: float, steps: int = 1000) -> float:
    """The run's rate by EM prior shift (Saerens, Latinne & Decaestecker 2002): each p re-weighted
    from the calibration population's base rate `prior` to the run's, until the rate they imply is
    the rate assumed. Reported beside the mean p as a tried alternative, not used by the judge."""
    z = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1))
    base = np.log(prior / (1 - prior))
    rate = float(p.mean())
    for _ in range(steps):
        r = min(max(rate, 1e-6), 1 - 1e-6)
        new = float((1 / (1 + np.exp(-(z + np.log(r / (1 - r)) - base)))).mean())
        if abs(new - rate) < 1e-10:
            break
        rate = new
    return rate


RULE_LOOSE = SIGNALS.index("rule_loose")


def overrulings(
    readers: dict[int, tuple[bool, bool, str]], p: dict[int, tuple[float, float]]
) -> list[dict[str, Any]]:
    """Per group of audits (ice-gold, the audits trained on, those never trained on), the audited
    answers whose leave-one-model-out verdict went against the rule reader's, and how many of them
    were right: what the scorer adds to the reader on models it did not see (unweighted counts)."""
    untrained = {path.name for path in UNTRAINED_AUDITS}
    out = []
    for group, member in (
        ("ice-gold (dev-gold)", lambda source: source == "dev-gold.jsonl"),
        ("audits trained on (extra, rounds 3-10)", lambda source: source in AUDIT_FILES),
        ("audits never trained on (rounds 11-15)", lambda source: source in untrained),
    ):
        rows = [
            (rule, label, p[line][0] >= 0.5)
            for line, (rule, label, source) in readers.items()
            if member(source)
        ]
        over = [(label, mine) for rule, label, mine in rows if mine != rule]
        right = sum(label == mine for label, mine in over)
        out.append({"group": group, "answers": len(rows), "overruled": len(over), "right": right,
                    "net": right - (len(over) - right)})  # fmt: skip
    return out


def pacc_means(train: Sequence[Example], pop: dict[str, int]) -> tuple[float, float]:
    """(mean p_loose of the audited contradictions, of the audited consistent answers), population
    weighted, from the loose head's cross-fit on `train` (`training.cross_fitted`): the constants of
    the adjusted rate (PACC, Bella et al. 2010), (mean p - fpr) / (tpr - fpr)."""
    fit = cross_fitted(train, pop, "loose")
    p, y, w = fit.p[fit.rows], fit.labels, fit.weights
    return float((w * p * y).sum() / (w * y).sum()), float((w * p * (1 - y)).sum() / (w * (1 - y)).sum())


def run_rates(
    lomo: dict[str, dict[int, tuple[float, float]]],
    spreads: dict[str, Transfer | None],
    means: dict[str, tuple[float, float]],
    labels: list[dict[str, Any]],
    audit_paths: Sequence[Path],
    gold_rows: Sequence[Any],
    pop: dict[str, int],
    resamples: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Per model, its whole run: the expected loose rate (mean p_loose over every answer, from a build
    without the model) against the audited rate (every round audit of the model, rounds drawn by its
    paper labels, weighted by its counts of paper positives and negatives), with the thresholded rate
    and the two prior-shift estimates beside them (EM; PACC with the build's `means`). Under leave-one-model-out every audit of the model is
    held out, trained-on rounds included: the per-run error of the expected rate on models it never saw.
    Beside it, the expected rate's 95% interval as a run reports it (Wilson on (sum p, n)) and its
    unseen-model interval, widened by the transfer spread the build without the model measured on the
    others (`spreads`), and whether each covers the audited rate."""
    audited: dict[int, bool] = {}
    for path in audit_paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if ROUND_STRATUM.fullmatch(str(row["stratum"])):
                    audited.setdefault(int(row["line"]), bool(row["gold_loose"]))
    out = []
    for model, by_line in sorted(lomo.items()):
        lines = [line for line in sorted(by_line) if line >= 0 and labels[line]["complete_run"]]
        pl = np.array([by_line[line][0] for line in lines])
        paper = {line: "P" if labels[line]["loose"] else "N" for line in lines}
        rows = [line for line in lines if line in audited]
        strata = [paper[line] for line in rows]
        run_pop = {k: sum(v == k for v in paper.values()) for k in set(strata)}
        if len(run_pop) < 2:
            continue
        y = np.array([float(audited[line]) for line in rows])
        rate = stratified_mean(y, strata, run_pop, resamples, seed)
        # the base rate the calibration was fitted to: ice-gold's audited rate without this model
        others = [g for g in gold_rows if g.stratum in pop and labels[g.line]["model"] != model]
        prior = sum(
            pop[s] / sum(pop.values()) * float(np.mean([g.gold_loose for g in others if g.stratum == s]))
            for s in pop
        )
        expected = float(pl.mean())
        tpr, fpr = means[model]
        ci = wilson(float(pl.sum()), len(pl))
        spread = spreads.get(model)
        unseen = widen(ci[0], ci[1], spread.shift95) if spread is not None else None
        out.append(
            {
                "model": model, "answers": len(lines), "audited_rows": len(rows),
                "audited": list(rate), "expected": expected, "thresholded": float(np.mean(pl >= 0.5)),
                "gap": [expected - rate[0], expected - rate[2], expected - rate[1]],
                "prior_shift": prior_shift(pl, prior),
                "pacc": min(1.0, max(0.0, (expected - fpr) / (tpr - fpr))),
                "ci95": list(ci), "ci95_covers": ci[0] <= rate[0] <= ci[1],
                "unseen_ci95": list(unseen) if unseen else None,
                "unseen_covers": unseen is not None and unseen[0] <= rate[0] <= unseen[1],
                "spread_without_model": None if spread is None else [spread.logit_sd, spread.models],
            }
        )  # fmt: skip
    return out


def judge_speed(labels: list[dict[str, Any]]) -> dict[str, float]:
    registry = IdentityRegistry.builtin()
    judge = RulesJudge(registry)
    targets: dict[tuple[str, str], TargetIdentity] = {}
    items = []
    for i, row in enumerate(labels):
        key = (row["model"], row["target_org"])
        if key not in targets:
            found = registry.find_org(row["target_org"]) or registry.for_model(row["model"])
            if found is None:
                sys.exit(f"{LABELS}: no identity in the registry for {key}")
            targets[key] = found
        prompt = fill_template(row["jailbreak_prompt"], row["query"])
        items.append(
            (JudgeItem(index=i, prompt=prompt, query=row["query"], response=row["response"]), targets[key])
        )
    judge.judge_one(*items[0])  # one-time set-up out of the timing
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for item, target in items:
        judge.judge_one(item, target)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "answers": len(items),
        "cpu_s": round(cpu, 2),
        "per_cpu_s": round(len(items) / cpu, 1),
        "per_wall_s": round(len(items) / wall, 1),
    }


def cell(e: dict[str, Any]) -> str:
    if e.get("low") is None:
        return f"{e['value']:.3f}"
    return f"{e['value']:.3f} [{e['low']:.3f}, {e['high']:.3f}]"


def fmt(a: JudgeAudit, label: str) -> str:
    return str(getattr(a, label).accuracy.fmt())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--png", type=Path, default=RESULTS / "judge_reliability.png")
    ap.add_argument("--json-out", type=Path, default=RESULTS / "judge_agreement.json")
    args = ap.parse_args()
    for needed in (GOLD / "dev-gold.jsonl", LABELS):
        if not needed.is_file():
            emit_skipped(f"{needed} not found: this benchmark needs ../shared/data beside the repository")
            return
    gold = load_gold(GOLD, LABELS)
    pop = dict(gold.strata_pop)
    trained = [GOLD / "dev-gold.jsonl", *(p for p in AUDITS if p.is_file())]
    audits = [*trained, *(p for p in UNTRAINED_AUDITS if p.is_file())]
    t0 = time.perf_counter()
    examples = load_examples(LABELS, audits)
    # the untrained audits' rows keep the paper's labels in training, as in the shipped build
    lomo: dict[str, dict[int, tuple[float, float]]] = {}
    spreads: dict[str, Transfer | None] = {}  # each build's transfer spread, measured without the model
    means: dict[str, tuple[float, float]] = {}  # each build's PACC constants (tried, not used)
    train = load_examples(LABELS, trained)
    # audited line -> (the rule reader's loose verdict, the audited label, the audit file)
    readers: dict[int, tuple[bool, bool, str]] = {}
    for model, weights, run_rows in lomo_builds(examples, pop, train=train, every_row=True):
        means[model] = pacc_means([ex for ex in train if ex.model != model], pop)
        readers |= {
            ex.line: (bool(ex.features.signals[RULE_LOOSE]), bool(ex.loose), ex.source)
            for ex in run_rows
            if ex.gold
        }
        probs = probabilities(weights, run_rows)
        lomo[model] = {ex.line: (float(a), float(b)) for ex, (a, b) in zip(run_rows, probs, strict=True)}
        spreads[model] = weights.heads["loose"].transfer
    build_s = time.perf_counter() - t0
    p = {line: v for by_line in lomo.values() for line, v in by_line.items()}
    opts = {"resamples": args.resamples, "seed": args.seed}
    sample = gold.sample()
    lomo_judged = {g.line: Judged(p[g.line][0] >= 0.5, p[g.line][1] >= 0.5) for g in gold.rows}
    gold_audits = [
        audit_judge(sample, lomo_judged, judge="scorer LOMO", **opts),
        audit_judge(sample, gold.paper(), judge="GPT-4o-mini", **opts),
    ]
    if BASELINE.is_file():
        recorded = json.loads(BASELINE.read_text(encoding="utf-8"))["verdicts"]
        base = {int(k): Judged(lo, st, None, un) for k, (lo, st, un) in recorded.items()}
        gold_audits.append(audit_judge(sample, base, judge="rules 0.1.0", **opts))
    # in-sample (not accuracy): the shipped weights on rows they were trained on
    shipped = builtin_weights()
    gold_ex = [ex for ex in examples if ex.gold]
    inside = {
        ex.line: (float(a), float(b))
        for ex, (a, b) in zip(gold_ex, probabilities(shipped, gold_ex), strict=True)
    }
    in_sample = audit_judge(
        sample, {g.line: Judged(inside[g.line][0] >= 0.5, inside[g.line][1] >= 0.5) for g in gold.rows},
        judge="shipped, in-sample (not accuracy)", **opts,
    )  # fmt: skip

    def verdicts(part: list[dict[str, Any]]) -> dict[int, Judged]:
        return {r["line"]: Judged(p[r["line"]][0] >= 0.5, p[r["line"]][1] >= 0.5) for r in part}

    def summary(
        name: str, kind: str, part: list[dict[str, Any]], design: dict[str, int] | None
    ) -> dict[str, Any]:
        """One audit's rows of one design: LOMO accuracy, the paper's labels and 10% escalated beside it."""
        models = sorted({gold.labels[r["line"]]["model"] for r in part})
        if design is None:
            return {
                "file": name, "rows": len(part), "kind": kind, "models": models,
                "loose": {"value": float(np.mean([(p[r["line"]][0] >= 0.5) == r["gold_loose"] for r in part]))},
                "strict": {"value": float(np.mean([(p[r["line"]][1] >= 0.5) == r["gold_strict"] for r in part]))},
                "paper_gpt_4o_mini": None, "escalated_10pct": None,
            }  # fmt: skip
        round_sample = weighted_sample(part, design, gold.labels)
        ours = audit_judge(round_sample, verdicts(part), judge="scorer LOMO", **opts)
        paper = audit_judge(
            round_sample,
            {r["line"]: Judged(bool(gold.labels[r["line"]]["loose"]), bool(gold.labels[r["line"]]["strict"]))
             for r in part},
            judge="GPT-4o-mini", **opts,
        )  # fmt: skip
        # the second check on these rows: the 10% least certain of the population escalated
        esc10 = audit_judge(round_sample, escalated(round_sample, p, 10)[0], judge="10% escalated", **opts)
        return {
            "file": name, "rows": len(part), "kind": kind, "models": models,
            "loose": ours.loose.accuracy.model_dump(), "strict": ours.strict.accuracy.model_dump(),
            "paper_gpt_4o_mini": {"loose": paper.loose.accuracy.model_dump(), "strict": paper.strict.accuracy.model_dump()},
            "escalated_10pct": {"loose": esc10.loose.accuracy.model_dump(), "strict": esc10.strict.accuracy.model_dump()},
        }  # fmt: skip

    # the other audits: weighted strata and plain shares
    others: list[dict[str, Any]] = []
    extra_rows: list[dict[str, Any]] = []
    for path in audits[1:]:
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        extra_rows += [r for r in rows if r["stratum"] in pop]
        for kind, part, design in split_design(rows, pop, gold.labels):
            if part:
                others.append(summary(path.name, kind, part, design))

    # the untrained audits pooled: the checks on rows the scorer never saw, of models left out
    held: dict[str, Any] | None = None
    untrained = [path for path in UNTRAINED_AUDITS if path.is_file()]
    _, held_part, held_pop = split_design(pooled_rounds(untrained), pop, gold.labels)[1]
    if held_part and held_pop is not None:
        held = summary(
            " + ".join(path.stem.removeprefix("ice-audit-") for path in untrained),
            "pooled",
            held_part,
            held_pop,
        )
        held_cal = calibration(
            np.array([p[r["line"]][0] for r in held_part]),
            np.array([float(r["gold_loose"]) for r in held_part]),
            [r["stratum"] for r in held_part], held_pop, **opts,
        )  # fmt: skip
        held |= {k: v for k, v in held_cal.items() if k not in ("bins", "weights")}
        # a diagnostic, not the population's accuracy: the rows every annotator was sure of (the strata's
        # shares kept), to show how many errors sit on answers the rubric leaves ambiguous
        sure = [r for r in held_part if r["sure"]]
        sure_pop = {k: v for k, v in held_pop.items() if any(r["stratum"] == k for r in sure)}
        sure_audit = audit_judge(
            weighted_sample(sure, sure_pop, gold.labels), verdicts(sure), judge="scorer LOMO", **opts
        )
        held["sure_rows_only"] = {
            "rows": len(sure),
            "loose": sure_audit.loose.accuracy.model_dump(),
            "strict": sure_audit.strict.accuracy.model_dump(),
        }

    # calibration and the expected rate, on every audited row of the weighted strata
    cal = [(g.line, g.stratum, g.gold_loose) for g in gold.rows if g.stratum in pop] + [
        (r["line"], r["stratum"], r["gold_loose"]) for r in extra_rows if r["stratum"] in pop
    ]
    pl = np.array([p[line][0] for line, _, _ in cal])
    cal_all = calibration(pl, np.array([float(y) for _, _, y in cal]), [s for _, s, _ in cal], pop, **opts)
    err, bins, w = cal_all["ece"], cal_all["bins"], cal_all["weights"]
    expected, audited, gap, thresholded = (cal_all[k] for k in ("expected", "audited", "gap", "thresholded"))
    plotted = plot(bins, err, args.png)

    # risk-coverage on ice-gold
    coverage = []
    for k in KS:
        judged, sent = escalated(sample, p, k)
        a = audit_judge(sample, judged, judge=f"{k}%", **opts)
        coverage.append((k, sent, a.loose.accuracy, a.strict.accuracy))
    unsure_share = float(np.average([shipped.doubt[0] < x < shipped.doubt[1] for x in pl], weights=w))

    rates = run_rates(lomo, spreads, means, gold.labels, audits[1:], gold.rows, pop, **opts)

    speed = judge_speed(gold.labels)

    # ---------------------------------------------------------------- print
    head = gold_audits[0]
    print(
        f"Default judge (signals -> scorer -> calibration), leave-one-model-out on ice-gold: {head.n} rows weighted to {head.population:,}; 95% stratified bootstrap ({args.resamples})"
    )
    print(f"  {'judge':34} {'loose accuracy':>22} {'strict accuracy':>22} {'loose rate':>22}")
    for a in [*gold_audits, in_sample]:
        print(f"  {a.judge:34} {fmt(a, 'loose'):>22} {fmt(a, 'strict'):>22} {a.loose.rate.fmt():>22}")
    print(f"  audited loose rate {head.loose.reference_rate.fmt()}")
    print("Per model (LOMO: the model's rows never trained on; each weighted by its own strata)")
    print(f"  {'model':24} {'n':>4} {'loose accuracy':>22} {'strict accuracy':>22}")
    for g in head.groups:
        print(f"  {g.group:24} {g.n:>4} {g.loose_accuracy.fmt():>22} {g.strict_accuracy.fmt():>22}")
    for o in others:
        extra = (
            f" ({', '.join(o['models'])})" if o["kind"] == "plain share" else f" ({len(o['models'])} models)"
        )
        print(
            f"  LOMO on {o['file']}, {o['kind']}, n={o['rows']}{extra}: loose {cell(o['loose'])}, strict {cell(o['strict'])}"
        )
        if o["escalated_10pct"] is not None:
            e10 = o["escalated_10pct"]
            print(
                f"    with the 10% least certain escalated to a perfect judge: loose {cell(e10['loose'])}, strict {cell(e10['strict'])}"
            )
        if o["paper_gpt_4o_mini"] is not None:
            ref = o["paper_gpt_4o_mini"]
            print(
                f"    the paper's GPT-4o-mini labels on the same rows: loose {cell(ref['loose'])}, strict {cell(ref['strict'])}"
            )
    if held is not None:
        e10, ref = held["escalated_10pct"], held["paper_gpt_4o_mini"]
        print(
            f"Held out: the audits never trained on ({held['file']}), pooled, n={held['rows']}, each model left out"
        )
        print(f"  loose {cell(held['loose'])}, strict {cell(held['strict'])}")
        print(f"  10% least certain escalated: loose {cell(e10['loose'])}, strict {cell(e10['strict'])}")
        print(f"  the paper's GPT-4o-mini labels: loose {cell(ref['loose'])}, strict {cell(ref['strict'])}")
        ex, au, hg = held["expected"], held["audited"], held["gap"]
        print(
            f"  ECE {held['ece']:.3f}; expected loose rate {ex[0]:.3f} [{ex[1]:.3f}, {ex[2]:.3f}], audited {au[0]:.3f} [{au[1]:.3f}, {au[2]:.3f}], gap {hg[0]:+.3f} [{hg[1]:+.3f}, {hg[2]:+.3f}]"
        )
        su = held["sure_rows_only"]
        print(
            f"  diagnostic, not accuracy: on the {su['rows']} rows every annotator was sure of, loose {cell(su['loose'])}, strict {cell(su['strict'])}"
        )
    overruled = overrulings(readers, p)
    print("Where the scorer overruled the rule reader (LOMO, audited answers, unweighted counts)")
    print(f"  {'audits':40} {'answers':>7} {'overruled':>9} {'right':>5} {'wrong':>5} {'net':>5}")
    for o in overruled:
        print(
            f"  {o['group']:40} {o['answers']:>7} {o['overruled']:>9} {o['right']:>5} {o['overruled'] - o['right']:>5} {o['net']:>+5}"
        )
    print(
        "Risk-coverage (ice-gold, LOMO): the k% least certain answers of the population to a perfect second judge"
    )
    print(f"  {'k':>4} {'rows sent':>10} {'loose accuracy':>22} {'strict accuracy':>22}")
    for k, sent, lo, st in coverage:
        print(f"  {k:>3}% {sent:>10} {lo.fmt():>22} {st.fmt():>22}")
    print(
        f"Calibration (LOMO, {len(cal)} audited rows of the weighted strata): ECE {err:.3f}; reliability diagram: {args.png if plotted else 'not drawn (matplotlib missing)'}"
    )
    print(
        f"  expected loose rate (mean p_loose) {expected[0]:.3f} [{expected[1]:.3f}, {expected[2]:.3f}], thresholded {thresholded[0]:.3f}, audited {audited[0]:.3f} [{audited[1]:.3f}, {audited[2]:.3f}]; gap {gap[0]:+.3f} [{gap[1]:+.3f}, {gap[2]:+.3f}]"
    )
    print(f"  share of the population in the doubt band {shipped.doubt}: {unsure_share:.3f}")
    print(
        "Per model, its whole run (LOMO): the expected loose rate (mean p_loose over every answer) against its audits (every round, weighted by its paper labels)"
    )
    print(
        f"  {'model':24} {'answers':>7} {'audited':>7} {'audited rate [95%]':>22} {'expected':>8} {'expected - audited [95%]':>26} {'thresholded':>11} {'EM prior shift':>14} {'PACC':>6}"
    )
    for r in rates:
        au, gp = r["audited"], r["gap"]
        print(
            f"  {r['model']:24} {r['answers']:>7} {r['audited_rows']:>7} {au[0]:>8.3f} [{au[1]:.3f}, {au[2]:.3f}] {r['expected']:>8.3f} {gp[0]:>+10.3f} [{gp[1]:+.3f}, {gp[2]:+.3f}] {r['thresholded']:>11.3f} {r['prior_shift']:>14.3f} {r['pacc']:>6.3f}"
        )
    if rates:
        gaps = np.array([r["gap"][0] for r in rates])
        shift = np.array([r["prior_shift"] - r["audited"][0] for r in rates])
        pacc = np.array([r["pacc"] - r["audited"][0] for r in rates])
        print(
            f"  mean |expected - audited| {np.abs(gaps).mean():.3f} (largest {np.abs(gaps).max():.3f}; {int((np.abs(gaps) <= 0.02).sum())} of {len(rates)} models within 0.02); EM prior shift {np.abs(shift).mean():.3f}, PACC {np.abs(pacc).mean():.3f} ({int((np.abs(pacc) <= 0.02).sum())} within 0.02) (neither used)"
        )
        print(
            "  the intervals a run reports for its expected rate, and whether each holds the audited rate (unseen model: widened by the spread the build without the model measured on the others)"
        )
        print(
            f"  {'model':24} {'95% CI (Wilson)':>18} {'holds':>5} {'unseen model':>18} {'holds':>5} {'spread (logit sd, models)':>26}"
        )
        for r in rates:
            ci, un, sp = r["ci95"], r["unseen_ci95"], r["spread_without_model"]
            un_text = "—" if un is None else f"[{un[0]:.3f}, {un[1]:.3f}]"
            sp_text = "—" if sp is None else f"{sp[0]:.3f}, {sp[1]}"
            print(
                f"  {r['model']:24} {'[' + f'{ci[0]:.3f}, {ci[1]:.3f}' + ']':>18} {'yes' if r['ci95_covers'] else 'no':>5} {un_text:>18} {'yes' if r['unseen_covers'] else 'no':>5} {sp_text:>26}"
            )
        print(
            f"  held: 95% CI {sum(r['ci95_covers'] for r in rates)} of {len(rates)} models, unseen-model interval {sum(r['unseen_covers'] for r in rates)} of {len(rates)}"
        )
    print(
        f"Speed of the shipped judge: {speed['per_cpu_s']:,.0f} answers per CPU-second ({speed['answers']} answers, {speed['cpu_s']} CPU s); LOMO build {build_s:.0f} s"
    )

    # ---------------------------------------------------------------- results file
    ten = next(c for c in coverage if c[0] == 10)
    tables = [
        {
            "title": "Leave-one-model-out accuracy on ice-gold (stratum-weighted to 8,000 rows, 95% intervals)",
            "columns": ["judge", "loose accuracy", "strict accuracy", "loose rate"],
            "rows": [
                [a.judge, fmt(a, "loose"), fmt(a, "strict"), a.loose.rate.fmt()]
                for a in [*gold_audits, in_sample]
            ]
            + [["audited (gold)", "", "", head.loose.reference_rate.fmt()]],
        },
        {
            "title": "Per model, leave-one-model-out (each model weighted by its own strata)",
            "columns": ["model", "n", "loose accuracy", "strict accuracy"],
            "rows": [[g.group, g.n, g.loose_accuracy.fmt(), g.strict_accuracy.fmt()] for g in head.groups],
        },
        {
            "title": "Other audits, leave-one-model-out",
            "columns": [
                "file",
                "rows",
                "weighting",
                "loose accuracy",
                "strict accuracy",
                "GPT-4o-mini loose / strict",
            ],
            "rows": [
                [
                    o["file"] + (f" ({', '.join(o['models'])})" if o["kind"] == "plain share" else ""),
                    o["rows"],
                    o["kind"],
                    cell(o["loose"]),
                    cell(o["strict"]),
                    "—"
                    if o["paper_gpt_4o_mini"] is None
                    else f"{o['paper_gpt_4o_mini']['loose']['value']:.3f} / {o['paper_gpt_4o_mini']['strict']['value']:.3f}",
                ]
                for o in others
            ],
        },
        *(
            []
            if held is None
            else [
                {
                    "title": f"Held out: audits never trained on ({held['file']}), pooled, leave-one-model-out",
                    "columns": ["figure", "value"],
                    "rows": [
                        ["rows", held["rows"]],
                        ["loose accuracy", cell(held["loose"])],
                        ["strict accuracy", cell(held["strict"])],
                        ["loose accuracy, 10% escalated", cell(held["escalated_10pct"]["loose"])],
                        [
                            "GPT-4o-mini loose / strict",
                            f"{cell(held['paper_gpt_4o_mini']['loose'])} / {cell(held['paper_gpt_4o_mini']['strict'])}",
                        ],
                        ["ECE (10 bins, population-weighted)", round(held["ece"], 3)],
                        ["expected - audited loose rate", "{:+.3f} [{:+.3f}, {:+.3f}]".format(*held["gap"])],
                        [
                            f"diagnostic, not accuracy: loose / strict on the {held['sure_rows_only']['rows']} rows every annotator was sure of",
                            f"{cell(held['sure_rows_only']['loose'])} / {cell(held['sure_rows_only']['strict'])}",
                        ],
                    ],
                }
            ]
        ),
        {
            "title": "Risk-coverage: the k% least certain answers to a perfect second judge (ice-gold, LOMO)",
            "columns": ["k", "rows sent", "loose accuracy", "strict accuracy"],
            "rows": [[f"{k}%", sent, lo.fmt(), st.fmt()] for k, sent, lo, st in coverage],
        },
        {
            "title": "Calibration of p_loose (LOMO, audited rows of the weighted strata)",
            "columns": ["figure", "value"],
            "rows": [
                ["ECE (10 bins, population-weighted)", round(err, 3)],
                [
                    "expected loose rate (mean p_loose)",
                    f"{expected[0]:.3f} [{expected[1]:.3f}, {expected[2]:.3f}]",
                ],
                [
                    "thresholded loose rate (p >= 0.5)",
                    f"{thresholded[0]:.3f} [{thresholded[1]:.3f}, {thresholded[2]:.3f}]",
                ],
                ["audited loose rate", f"{audited[0]:.3f} [{audited[1]:.3f}, {audited[2]:.3f}]"],
                ["expected - audited", f"{gap[0]:+.3f} [{gap[1]:+.3f}, {gap[2]:+.3f}]"],
                ["share in the doubt band", round(unsure_share, 3)],
            ],
        },
        {
            "title": "Reliability diagram bins (p_loose)",
            "columns": ["mean p_loose", "audited rate", "population share", "rows"],
            "rows": [[round(b[0], 3), round(b[1], 3), round(b[2], 3), b[3]] for b in bins],
        },
        {
            "title": "Per model, its whole run (LOMO): expected loose rate against its audits",
            "columns": [
                "model",
                "answers",
                "audited rows",
                "audited rate",
                "expected (mean p_loose)",
                "expected - audited",
                "thresholded",
                "EM prior shift (not used)",
                "PACC (not used)",
                "95% CI (Wilson) holds it",
                "unseen-model interval (spread without the model)",
                "holds it",
            ],
            "rows": [
                [
                    r["model"],
                    r["answers"],
                    r["audited_rows"],
                    "{:.3f} [{:.3f}, {:.3f}]".format(*r["audited"]),
                    round(r["expected"], 3),
                    "{:+.3f} [{:+.3f}, {:+.3f}]".format(*r["gap"]),
                    round(r["thresholded"], 3),
                    round(r["prior_shift"], 3),
                    round(r["pacc"], 3),
                    f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}] {'yes' if r['ci95_covers'] else 'no'}",
                    "—" if r["unseen_ci95"] is None else "[{:.3f}, {:.3f}]".format(*r["unseen_ci95"]),
                    "yes" if r["unseen_covers"] else "no",
                ]
                for r in rates
            ],
        },
        {
            "title": "Where the scorer overruled the rule reader (LOMO, audited answers, unweighted counts)",
            "columns": ["audits", "answers", "overruled", "right", "wrong"],
            "rows": [
                [o["group"], o["answers"], o["overruled"], o["right"], o["overruled"] - o["right"]]
                for o in overruled
            ],
        },
        {
            "title": "Speed of the shipped judge (every row of the paper)",
            "columns": ["answers", "CPU s", "answers per CPU-second"],
            "rows": [[speed["answers"], speed["cpu_s"], speed["per_cpu_s"]]],
        },
    ]
    doc = {
        "title": "ICE default judge: leave-one-model-out accuracy and calibration",
        "command": "python bench/judge_agreement.py",
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "tables": tables,
        "notes": [
            "Leave-one-model-out (LOMO): for each model, the scorer and its calibration were rebuilt without any of its rows (paper labels and audited labels), then its audited rows were scored. These are the accuracy figures.",
            "The row marked in-sample (not accuracy) scores the shipped weights on rows they were trained on.",
            "The rule reader inside the judge was developed reading disagreements on ice-gold and ice-audit-extra, so even LOMO figures on those rows are not a fully untouched test; models outside the paper's data are.",
            f"With 10% of answers escalated: loose {ten[2].fmt()}.",
        ],
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.json_out}")
    emit_json(
        {
            "benchmark": "judge_agreement",
            "lomo_loose": head.loose.accuracy.model_dump(),
            "lomo_strict": head.strict.accuracy.model_dump(),
            "lomo_loose_10pct_escalated": ten[2].model_dump(),
            "ece": round(err, 4),
            "expected_loose_rate": expected,
            "audited_loose_rate": audited,
            "per_model": {
                g.group: {"n": g.n, "loose": g.loose_accuracy.value, "strict": g.strict_accuracy.value}
                for g in head.groups
            },
            "others": others,
            "held_out": held,
            "run_rates": rates,
            "overruled_reader": overruled,
            "coverage": {
                k: {"loose": lo.value, "strict": st.value, "sent": sent} for k, sent, lo, st in coverage
            },
            "in_sample_not_accuracy": {
                "loose": in_sample.loose.accuracy.value,
                "strict": in_sample.strict.accuracy.value,
            },
            "speed": speed,
            "machine": machine_info(),
        }
    )


if __name__ == "__main__":
    main()
