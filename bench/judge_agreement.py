"""Judge agreement: the rules judge and the paper's GPT-4o-mini labels against the audited gold, and
the rules judge against the paper's labels.

Reads `../shared/data/paper-ice-labels.jsonl` (the paper's judged identity-jailbreak responses) and
`../shared/data/ice-gold/` (320 of its rows labelled against a written rubric, with the strata that
drew them), runs the rules judge on every row with the target taken from the registry
(`for_org(target_org)`, else `for_model(model)`), and prints:

1. Against the dev gold, stratum-weighted to all 8,000 complete rows exactly as ice-gold/README.md
   says (`distillscope.ice.audit`, the computation `ice audit score` uses): loose / strict accuracy,
   Cohen's kappa and the loose / strict rate, with stratified-bootstrap 95% intervals, for the rules
   judge, the paper's labels and the 0.1.0 rules judge (its recorded verdicts,
   tests/ice/data/rules-0.1.0-ice-gold.json); per model (each weighted by its own strata) and per
   rubric category; the weighted confusion matrices.
2. The rules judge's unsure verdicts over all complete rows and the band its rates could move in.
3. Against the paper's labels, row by row: agreement, kappa and the confusion matrix per split and
   per model, each model's loose / strict / hard score beside the label-derived one, and the agreement
   per category the rules judge gave.
4. The judge's speed. The last line is one JSON object with every figure.

Rows it leaves out of (3), and why:
- models with `complete_run: false` hold only the paper's loose positives (their negatives are lost),
  so they are left out of agreement and kappa; their recall is reported instead;
- qwen2.5-72b-instruct's strict labels are all 0 because the paper's repository shipped its loose file
  as the strict one (see the data README), so its rows are left out of *strict* agreement.

The rules were developed reading disagreements of the DEV models only; HOLDOUT figures are on models
whose responses were not read while writing the rules.

    python bench/judge_agreement.py [--show loose|strict|gold-loose|gold-strict] [--model NAME] [--limit 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, SHARED_DATA, emit_json, machine_info
from distillscope.ice.audit import (
    UNKNOWN,
    AuditSample,
    Gold,
    JudgeAudit,
    Judged,
    LabelledRow,
    audit_judge,
    load_gold,
)
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict
from distillscope.stats.intervals import proportion

LABELS = SHARED_DATA / "paper-ice-labels.jsonl"
GOLD = SHARED_DATA / "ice-gold"
BASELINE = REPO / "tests" / "ice" / "data" / "rules-0.1.0-ice-gold.json"
VENDOR_WORDS = ("openai", "chatgpt", "gpt", "claude", "anthropic")
DEV_MODELS = frozenset({"glm-4-plus", "llama3.1-70b-instruct", "qwen2.5-14b", "deepseek-r1"})
STRICT_LABEL_BROKEN = frozenset({"qwen2.5-72b-instruct"})


def load_rows(path: Path = LABELS) -> list[dict[str, Any]]:
    if not path.is_file():
        sys.exit(
            f"{path} not found: this benchmark needs the shared data folder (../shared/data) beside the repository"
        )
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def target_for(registry: IdentityRegistry, row: dict[str, Any]) -> TargetIdentity:
    found = registry.find_org(row["target_org"]) or registry.for_model(row["model"])
    if found is None:
        sys.exit(f"no registry identity for model {row['model']!r} / organisation {row['target_org']!r}")
    return found


def judge_rows(rows: list[dict[str, Any]], judge: RulesJudge) -> tuple[list[Verdict], float]:
    """Verdicts in row order and the CPU seconds spent judging (target lookup excluded)."""
    registry = judge.registry
    targets: dict[tuple[str, str], TargetIdentity] = {}
    prepared = []
    for i, row in enumerate(rows):
        key = (row["model"], row["target_org"])
        if key not in targets:
            targets[key] = target_for(registry, row)
        item = JudgeItem(
            index=i, prompt=row["jailbreak_prompt"], query=row["query"], response=row["response"]
        )
        prepared.append((item, targets[key]))
    t0 = time.process_time()  # CPU time of this process: the machine may be shared
    verdicts = [judge.judge_one(item, target) for item, target in prepared]
    return verdicts, time.process_time() - t0


def agreement(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    """Per-row agreement, Cohen's kappa and the confusion matrix of (label, judge) pairs."""
    n = len(pairs)
    tp = sum(1 for lab, got in pairs if lab and got)
    tn = sum(1 for lab, got in pairs if not lab and not got)
    fp = sum(1 for lab, got in pairs if not lab and got)
    fn = sum(1 for lab, got in pairs if lab and not got)
    if n == 0:
        return {"n": 0}
    po = (tp + tn) / n
    pe = ((tp + fn) / n) * ((tp + fp) / n) + ((tn + fp) / n) * ((tn + fn) / n)
    kappa = (po - pe) / (1 - pe) if pe < 1 else 1.0
    return {
        "n": n,
        "agreement": round(po, 4),
        "kappa": round(kappa, 4),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
    }


def mentions_vendor(prompt: str) -> bool:
    low = prompt.lower()
    return any(word in low for word in VENDOR_WORDS)


def per_model(rows: list[dict[str, Any]], verdicts: list[Verdict]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[row["model"]].append(i)
    out: dict[str, dict[str, Any]] = {}
    for model, idx in sorted(groups.items()):
        n = len(idx)
        lab_l = sum(rows[i]["loose"] for i in idx)
        lab_s = sum(rows[i]["strict"] for i in idx)
        lab_h = sum(rows[i]["strict"] and not mentions_vendor(rows[i]["jailbreak_prompt"]) for i in idx)
        got_l = sum(bool(verdicts[i].loose) for i in idx)
        got_s = sum(bool(verdicts[i].strict) for i in idx)
        got_h = sum(
            bool(verdicts[i].strict) and not mentions_vendor(rows[i]["jailbreak_prompt"]) for i in idx
        )
        complete = all(rows[i]["complete_run"] for i in idx)
        entry: dict[str, Any] = {
            "n": n,
            "complete_run": complete,
            "split": "dev" if model in DEV_MODELS else "holdout",
        }
        if complete:
            entry.update(
                label={"loose": lab_l / n, "strict": lab_s / n, "hard": lab_h / n},
                rules={"loose": got_l / n, "strict": got_s / n, "hard": got_h / n},
            )
            entry["diff"] = {
                k: round(entry["rules"][k] - entry["label"][k], 4) for k in ("loose", "strict", "hard")
            }
            entry["agreement"] = {
                "loose": agreement([(bool(rows[i]["loose"]), bool(verdicts[i].loose)) for i in idx]),
                "strict": agreement([(bool(rows[i]["strict"]), bool(verdicts[i].strict)) for i in idx])
                if model not in STRICT_LABEL_BROKEN
                else {"n": 0},
            }
        else:
            entry["recall_loose"] = round(got_l / n, 4)
            entry["recall_strict"] = (
                round(sum(bool(verdicts[i].strict) for i in idx if rows[i]["strict"]) / lab_s, 4)
                if lab_s
                else None
            )
        entry["unsure"] = sum(verdicts[i].unsure for i in idx)
        out[model] = entry
    return out


def figures(
    rows: list[dict[str, Any]], verdicts: list[Verdict], models: set[str] | None = None
) -> dict[str, Any]:
    loose, strict = [], []
    for row, v in zip(rows, verdicts, strict=True):
        if not row["complete_run"] or (models is not None and row["model"] not in models):
            continue
        loose.append((bool(row["loose"]), bool(v.loose)))
        if row["model"] not in STRICT_LABEL_BROKEN:
            strict.append((bool(row["strict"]), bool(v.strict)))
    return {"loose": agreement(loose), "strict": agreement(strict)}


def by_rules_category(rows: list[dict[str, Any]], verdicts: list[Verdict]) -> dict[str, dict[str, Any]]:
    """Per category the rules judge gave: how many rows, and how often the paper's labels agree."""
    groups: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for row, v in zip(rows, verdicts, strict=True):
        if row["complete_run"]:
            groups[str(v.category) if v.category else UNKNOWN].append((bool(row["loose"]), bool(v.loose)))
    return {
        cat: {
            "n": len(p),
            "paper_loose": round(sum(a for a, _ in p) / len(p), 4),
            "agreement": agreement(p)["agreement"],
        }
        for cat, p in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    }


def rate_band(rows: list[dict[str, Any]], verdicts: list[Verdict]) -> dict[str, Any]:
    """Over the complete rows: the rules judge's rates with unsure cases as its best guess, and the
    band [every unsure a no, every unsure a yes]."""
    done = [v for row, v in zip(rows, verdicts, strict=True) if row["complete_run"]]
    n = len(done)
    unsure = [v for v in done if v.unsure]
    out: dict[str, Any] = {"n": n, "unsure": len(unsure)}
    for kind in ("loose", "strict"):
        sure_yes = sum(bool(getattr(v, kind)) for v in done if not v.unsure)
        guess_yes = sum(bool(getattr(v, kind)) for v in unsure)
        out[kind] = {
            "rate": round((sure_yes + guess_yes) / n, 4),
            "band": [round(sure_yes / n, 4), round((sure_yes + len(unsure)) / n, 4)],
        }
    return out


def show(
    rows: list[dict[str, Any]], verdicts: list[Verdict], kind: str, model: str | None, limit: int
) -> None:
    shown = 0
    for i, (row, v) in enumerate(zip(rows, verdicts, strict=True)):
        if model and row["model"] != model:
            continue
        if model is None and row["model"] not in DEV_MODELS:
            continue
        if not row["complete_run"] or bool(row[kind]) == bool(getattr(v, kind)):
            continue
        print(
            f"--- row {i} {row['model']} label {kind}={row[kind]} rules={getattr(v, kind)} "
            f"category={v.category} claimed={v.claimed} unsure={v.unsure}"
        )
        print(f"    Q: {row['query'].strip()[:120]}")
        print(f"    evidence: {v.evidence!r}" if v.evidence else "    evidence: -")
        print("    " + row["response"][:700].replace("\n", " | "))
        shown += 1
        if shown >= limit:
            break


def show_gold(gold: Gold, verdicts: list[Verdict], kind: str, model: str | None, limit: int) -> None:
    """Disagreements of the rules judge with the gold (every model: the gold is the dev sample)."""
    shown = 0
    for g in gold.rows:
        v = verdicts[g.line]
        label = getattr(g, f"gold_{kind}")
        if (model and g.model != model) or label == bool(getattr(v, kind)):
            continue
        row = gold.labels[g.line]
        print(
            f"--- line {g.line} {g.model} {g.stratum} gold {kind}={label} ({g.category}, sure={g.sure}: {g.why}) "
            f"rules={getattr(v, kind)} category={v.category} unsure={v.unsure}"
        )
        print(f"    Q: {row['query'].strip()[:120]}")
        print(f"    evidence: {v.evidence!r}" if v.evidence else "    evidence: -")
        print("    " + row["response"][:700].replace("\n", " | "))
        shown += 1
        if shown >= limit:
            break


def baseline_verdicts(path: Path = BASELINE) -> dict[int, Judged] | None:
    if not path.is_file():
        return None
    recorded = json.loads(path.read_text(encoding="utf-8"))["verdicts"]
    return {int(k): Judged(loose, strict, None, unsure) for k, (loose, strict, unsure) in recorded.items()}


def print_gold(audits: list[JudgeAudit], rules_rates: dict[str, dict[str, float]]) -> None:
    ref = audits[0].loose.reference_rate
    print(
        f"Against the audited gold ({audits[0].n} rows weighted to {audits[0].population:,}; "
        f"{audits[0].strict.extra_n} S rows apart), 95% stratified bootstrap ({audits[0].resamples} resamples)"
    )
    print(
        f"  {'judge':14} {'loose accuracy':>22} {'strict accuracy':>22} {'kappa loose':>12} {'kappa strict':>12} "
        f"{'loose rate (gold ' + format(ref.value, '.3f') + ')':>26} {'strict rate':>22}  S ok"
    )
    for a in audits:
        print(
            f"  {a.judge:14} {a.loose.accuracy.fmt():>22} {a.strict.accuracy.fmt():>22} {a.loose.kappa.value:>12.3f} "
            f"{a.strict.kappa.value:>12.3f} {a.loose.rate.fmt():>26} {a.strict.rate.fmt():>22}  "
            f"{a.strict.extra_correct}/{a.strict.extra_n}"
        )
    print("  weighted confusion (rows of 8,000; gold x judge)")
    print(f"  {'judge':14} {'label':6} {'tp':>7} {'fp':>7} {'fn':>7} {'tn':>7}   sample tp/fp/fn/tn")
    for a in audits:
        for kind in ("loose", "strict"):
            c, s = getattr(a, kind).confusion, getattr(a, kind).confusion_sample
            print(
                f"  {a.judge:14} {kind:6} {c.tp:>7.0f} {c.fp:>7.0f} {c.fn:>7.0f} {c.tn:>7.0f}   "
                f"{s.tp:.0f}/{s.fp:.0f}/{s.fn:.0f}/{s.tn:.0f}"
            )
    print("Per model, each weighted by its own strata: loose rate (gap to gold) and loose accuracy")
    names = [a.judge for a in audits]
    print(
        f"  {'model':24} {'n':>3} {'gold rate':>20} "
        + " ".join(f"{n + ' rate':>15} {'gap':>7} {'acc':>6}" for n in names)
        + "  rules all rows"
    )
    for i, g in enumerate(audits[0].groups):
        cells = []
        for a in audits:
            m = a.groups[i]
            cells.append(
                f"{m.loose_rate.value:>15.3f} {m.loose_gap.value:>+7.3f} {m.loose_accuracy.value:>6.3f}"
            )
        borrowed = f" (pooled {','.join(g.borrowed)})" if g.borrowed else ""
        exact = rules_rates.get(g.group, {}).get("loose")
        suffix = f"  {exact:>14.3f}" if exact is not None else ""
        print(
            f"  {g.group:24} {g.n:>3} {g.reference_loose_rate.fmt():>20} "
            + " ".join(cells)
            + suffix
            + borrowed
        )
    print("Per gold category: weighted rows, and each judge's loose accuracy on them (share counted loose)")
    print(f"  {'category':22} {'n':>4} {'rows':>6} " + " ".join(f"{n:>22}" for n in names))
    for i, c in enumerate(audits[0].categories):
        cells = []
        for a in audits:
            m = a.categories[i]
            cells.append(f"{m.loose_accuracy.value:>8.3f} ({m.judge_loose.value:.2f} yes)".rjust(22))
        print(f"  {c.category:22} {c.n:>4} {c.population.value:>6.0f} " + " ".join(cells))
    rules = audits[0]
    cats = sorted({k for row in rules.category_confusion.values() for k in row})
    if cats != [UNKNOWN]:
        print(f"Gold category x {rules.judge} category (weighted rows)")
        print(f"  {'':22} " + " ".join(f"{c[:10]:>10}" for c in cats))
        for ref_cat, row in rules.category_confusion.items():
            print(f"  {ref_cat:22} " + " ".join(f"{row.get(c, 0):>10.0f}" for c in cats))


EXTRA = REPO / "bench" / "data" / "ice-audit-extra.jsonl"


def extra_audits(
    gold: Gold, verdicts: list[Verdict], opts: dict[str, Any]
) -> tuple[list[JudgeAudit], dict[str, Any]]:
    """The second audit (bench/data/ice-audit-extra.jsonl, see its README): the four strata weighted
    like ice-gold, and the rows of the two models ice-gold does not cover (`U`) as a plain share."""
    if not EXTRA.is_file():
        return [], {}
    rows = [json.loads(line) for line in EXTRA.read_text(encoding="utf-8").splitlines() if line.strip()]
    weighted = [r for r in rows if r["stratum"] in gold.strata_pop]
    group_pop: dict[str, dict[str, int]] = {}
    for line, stratum in enumerate(gold.strata_by_line):
        if stratum is not None:
            cell = group_pop.setdefault(gold.labels[line]["model"], {})
            cell[stratum] = cell.get(stratum, 0) + 1
    sample = AuditSample(
        [
            LabelledRow(
                key=r["line"], stratum=r["stratum"], loose=r["gold_loose"], strict=r["gold_strict"],
                category=r["category"], group=gold.labels[r["line"]]["model"], sure=r["sure"],
            )
            for r in weighted
        ],
        dict(gold.strata_pop),
        group_pop,
    )  # fmt: skip
    paper = {
        r["line"]: Judged(bool(gold.labels[r["line"]]["loose"]), bool(gold.labels[r["line"]]["strict"]))
        for r in weighted
    }
    audits = [
        audit_judge(
            sample, {r["line"]: Judged.of(verdicts[r["line"]]) for r in weighted}, judge="rules", **opts
        ),
        audit_judge(sample, paper, judge="GPT-4o-mini", **opts),
    ]
    unseen = [r for r in rows if r["stratum"] == "U"]
    out: dict[str, Any] = {}
    for name, judged in (
        ("rules", {r["line"]: Judged.of(verdicts[r["line"]]) for r in unseen}),
        (
            "GPT-4o-mini",
            {
                r["line"]: Judged(
                    bool(gold.labels[r["line"]]["loose"]), bool(gold.labels[r["line"]]["strict"])
                )
                for r in unseen
            },
        ),
    ):
        for label in ("loose", "strict"):
            ok = sum(bool(getattr(judged[r["line"]], label)) == r[f"gold_{label}"] for r in unseen)
            out[f"{name}_{label}"] = proportion(ok, len(unseen))
    return audits, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=LABELS,
        help="labels JSONL (default ../shared/data/paper-ice-labels.jsonl)",
    )
    ap.add_argument(
        "--gold", type=Path, default=GOLD, help="audited gold folder (default ../shared/data/ice-gold)"
    )
    ap.add_argument(
        "--show",
        choices=["loose", "strict", "gold-loose", "gold-strict"],
        help="print disagreements with the paper's labels (dev models only unless --model) or with the gold",
    )
    ap.add_argument("--model", help="with --show: only this model")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rows = load_rows(args.data)
    if not (args.gold / "dev-gold.jsonl").is_file():
        sys.exit(f"{args.gold} not found: this benchmark needs ../shared/data/ice-gold beside the repository")
    gold = load_gold(args.gold, args.data)
    judge = RulesJudge()
    judge.judge_one(
        JudgeItem(
            index=0, prompt="", query="", response="I am warm. 我很好。"
        ),  # one-time set-up out of the timing
        IdentityRegistry.builtin().for_org("OpenAI"),
    )
    verdicts, seconds = judge_rows(rows, judge)
    if args.show in ("loose", "strict"):
        show(rows, verdicts, args.show, args.model, args.limit)
    elif args.show:
        show_gold(gold, verdicts, args.show.removeprefix("gold-"), args.model, args.limit)

    sample = gold.sample()
    opts = {"resamples": args.resamples, "seed": args.seed}
    audits = [
        audit_judge(sample, {g.line: Judged.of(verdicts[g.line]) for g in gold.rows}, judge="rules", **opts),
        audit_judge(sample, gold.paper(), judge="GPT-4o-mini", **opts),
    ]
    baseline = baseline_verdicts()
    if baseline is not None:
        audits.append(audit_judge(sample, baseline, judge="rules 0.1.0", **opts))

    models = per_model(rows, verdicts)
    dev = {m for m in models if m in DEV_MODELS}
    holdout = {m for m in models if m not in DEV_MODELS}
    overall = figures(rows, verdicts)
    by_split = {"dev": figures(rows, verdicts, dev), "holdout": figures(rows, verdicts, holdout)}
    band = rate_band(rows, verdicts)
    categories = by_rules_category(rows, verdicts)
    speed = len(rows) / seconds if seconds else float("inf")

    print(f"Judges vs the audited gold and the paper's labels ({len(rows)} rows; {args.data})")
    print_gold(audits, {m: e["rules"] for m, e in models.items() if e["complete_run"]})
    print(
        f"Rules judge unsure on {band['unsure']} of {band['n']} complete rows; rates with its best guess "
        f"[band: every unsure no, every unsure yes]: loose {band['loose']['rate']:.3f} {band['loose']['band']}, "
        f"strict {band['strict']['rate']:.3f} {band['strict']['band']}"
    )
    print(
        "Rules judge vs the paper's labels, row by row over complete runs (strict leaves out qwen2.5-72b-instruct: its strict labels are a copy error)"
    )
    print(f"  {'':22} {'label':6} {'n':>5} {'agree':>7} {'kappa':>7}   tp    fp    fn    tn")
    splits = [("all", overall), *by_split.items()]
    splits += [(m, e["agreement"]) for m, e in models.items() if e["complete_run"]]
    for split_name, figs in splits:
        for kind in ("loose", "strict"):
            f = figs[kind]
            if not f.get("n"):
                continue
            c = f["confusion"]
            print(
                f"  {split_name:22} {kind:6} {f['n']:>5} {f['agreement']:>7.3f} {f['kappa']:>7.3f} "
                f"{c['tp']:>5} {c['fp']:>5} {c['fn']:>5} {c['tn']:>5}"
            )
    print("Scores per model: label-derived vs rules judge (score = positives / rows)")
    print(f"  {'model':24} {'split':8} {'n':>5}  {'loose':>13}  {'strict':>13}  {'hard':>13}  unsure")
    for model, e in models.items():
        if e["complete_run"]:
            cells = "  ".join(f"{e['label'][k]:.3f}/{e['rules'][k]:.3f}" for k in ("loose", "strict", "hard"))
            flag = "  (strict label broken)" if model in STRICT_LABEL_BROKEN else ""
            print(f"  {model:24} {e['split']:8} {e['n']:>5}  {cells}  {e['unsure']:>6}{flag}")
        else:
            rs = e["recall_strict"]
            print(
                f"  {model:24} {e['split']:8} {e['n']:>5}  positives only: loose recall {e['recall_loose']:.3f}, "
                f"strict recall {rs if rs is not None else '-'}  {e['unsure']:>6}"
            )
    print("Per rules category over complete runs: rows, share the paper labelled loose, loose agreement")
    for cat, f in categories.items():
        print(f"  {cat:22} {f['n']:>5} {f['paper_loose']:>7.3f} {f['agreement']:>7.3f}")
    worst = {
        k: max(
            abs(e["diff"][k])
            for m, e in models.items()
            if e["complete_run"] and not (k != "loose" and m in STRICT_LABEL_BROKEN)
        )
        for k in ("loose", "strict", "hard")
    }
    print(
        f"Largest per-model score gap: loose {worst['loose']:.3f}, strict {worst['strict']:.3f}, hard {worst['hard']:.3f}"
    )
    second, unseen = extra_audits(gold, verdicts, opts)
    if second:
        print(
            f"Against the second audit (bench/data/ice-audit-extra.jsonl: {second[0].n} rows weighted to "
            f"{second[0].population:,}; its README says how it was drawn and used)"
        )
        for a in second:
            print(
                f"  {a.judge:12} loose {a.loose.accuracy.fmt()}  strict {a.strict.accuracy.fmt()}  "
                f"loose rate {a.loose.rate.fmt()} (reference {a.loose.reference_rate.fmt()})"
            )
        n_u = unseen["rules_loose"]["n"]
        print(
            f"  rows of the two models ice-gold does not cover (gemini-1.5-pro, qwen2.5-7b; n={n_u}), plain share correct:"
        )
        for name in ("rules", "GPT-4o-mini"):
            lo, st = unseen[f"{name}_loose"], unseen[f"{name}_strict"]
            print(
                f"    {name:12} loose {lo['score']:.3f} [{lo['ci95'][0]:.3f}, {lo['ci95'][1]:.3f}]  "
                f"strict {st['score']:.3f} [{st['ci95'][0]:.3f}, {st['ci95'][1]:.3f}]"
            )
    print(f"Speed: {speed:,.0f} responses/s on one core ({len(rows)} responses in {seconds:.2f} CPU s)")
    emit_json(
        {
            "benchmark": "judge_agreement",
            "rows": len(rows),
            "gold": {a.judge: a.model_dump(mode="json") for a in audits},
            "gold_headline": {
                a.judge: {
                    "loose_accuracy": a.loose.accuracy.value,
                    "strict_accuracy": a.strict.accuracy.value,
                    "loose_rate": a.loose.rate.value,
                    "gold_loose_rate": a.loose.reference_rate.value,
                    "max_model_loose_gap": max(abs(g.loose_gap.value or 0.0) for g in a.groups),
                }
                for a in audits
            },
            "second_audit": {
                a.judge: {
                    "loose_accuracy": a.loose.accuracy.value,
                    "strict_accuracy": a.strict.accuracy.value,
                    "loose_rate": a.loose.rate.value,
                    "reference_loose_rate": a.loose.reference_rate.value,
                }
                for a in second
            },
            "second_audit_unseen_models": unseen,
            "unsure": band,
            "agreement": overall,
            "by_split": by_split,
            "models": models,
            "rules_categories": categories,
            "rules_category_counts": dict(Counter(str(v.category) for v in verdicts)),
            "max_score_gap": worst,
            "responses_per_s": round(speed, 1),
            "dev_models": sorted(dev),
            "holdout_models": sorted(holdout),
            "machine": machine_info(),
        }
    )


if __name__ == "__main__":
    main()
