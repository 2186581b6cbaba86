"""Judge agreement: the rules judge against the paper's GPT-4o-mini labels.

Reads `../shared/data/paper-ice-labels.jsonl` (the paper's judged identity-jailbreak responses), runs
the rules judge on every row with the target taken from the registry (`for_org(target_org)`, else
`for_model(model)`), and prints per-row agreement, Cohen's kappa and the confusion matrix for the
loose and the strict label, each model's loose / strict / hard score beside the label-derived one,
and the judge's speed. The last line is one JSON object with every figure.

Rows it leaves out, and why:
- models with `complete_run: false` hold only the paper's loose positives (their negatives are lost),
  so they are left out of agreement and kappa; their recall is reported instead;
- qwen2.5-72b-instruct's strict labels are all 0 because the paper's repository shipped its loose file
  as the strict one (see the data README), so its rows are left out of *strict* agreement and its
  strict score is compared with the paper's published 0.00 only for what it is.

The rules were developed reading disagreements of the DEV models only; HOLDOUT figures are on models
whose responses were not read while writing the rules.

    python bench/judge_agreement.py [--show loose|strict] [--model NAME] [--limit 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, emit_json, machine_info
from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict

LABELS = SHARED_DATA / "paper-ice-labels.jsonl"
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
        else:
            entry["recall_loose"] = round(got_l / n, 4)
            entry["recall_strict"] = round(
                sum(bool(verdicts[i].strict) for i in idx if rows[i]["strict"]) / lab_s, 4
            ) if lab_s else None  # fmt: skip
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
            f"--- row {i} {row['model']} label {kind}={row[kind]} rules={getattr(v, kind)} claimed={v.claimed} unsure={v.unsure}"
        )
        print(f"    Q: {row['query'].strip()[:120]}")
        print(f"    evidence: {v.evidence!r}" if v.evidence else "    evidence: -")
        print("    " + row["response"][:700].replace("\n", " | "))
        shown += 1
        if shown >= limit:
            break


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=LABELS,
        help="labels JSONL (default ../shared/data/paper-ice-labels.jsonl)",
    )
    ap.add_argument(
        "--show",
        choices=["loose", "strict"],
        help="print disagreements of this label (dev models only unless --model)",
    )
    ap.add_argument("--model", help="with --show: only this model")
    ap.add_argument("--limit", type=int, default=20)
    args = ap.parse_args()

    rows = load_rows(args.data)
    judge = RulesJudge()
    judge.judge_one(
        JudgeItem(index=0, prompt="", query="", response="I am warm."),
        IdentityRegistry.builtin().for_org("OpenAI"),
    )
    verdicts, seconds = judge_rows(rows, judge)
    if args.show:
        show(rows, verdicts, args.show, args.model, args.limit)

    models = per_model(rows, verdicts)
    dev = {m for m in models if m in DEV_MODELS}
    holdout = {m for m in models if m not in DEV_MODELS}
    overall = figures(rows, verdicts)
    by_split = {"dev": figures(rows, verdicts, dev), "holdout": figures(rows, verdicts, holdout)}
    speed = len(rows) / seconds if seconds else float("inf")

    print(f"Rules judge vs the paper's labels ({len(rows)} rows; {args.data})")
    print(
        "Agreement over complete runs (strict leaves out qwen2.5-72b-instruct: its strict labels are a copy error)"
    )
    print(f"  {'':8} {'label':6} {'n':>5} {'agree':>7} {'kappa':>7}   tp    fp    fn    tn")
    for split_name, figs in [("all", overall), *by_split.items()]:
        for kind in ("loose", "strict"):
            f = figs[kind]
            if not f.get("n"):
                continue
            c = f["confusion"]
            print(
                f"  {split_name:8} {kind:6} {f['n']:>5} {f['agreement']:>7.3f} {f['kappa']:>7.3f} "
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
    print(f"Speed: {speed:,.0f} responses/s on one core ({len(rows)} responses in {seconds:.2f} CPU s)")
    emit_json(
        {
            "benchmark": "judge_agreement",
            "rows": len(rows),
            "agreement": overall,
            "by_split": by_split,
            "models": models,
            "max_score_gap": worst,
            "responses_per_s": round(speed, 1),
            "dev_models": sorted(dev),
            "holdout_models": sorted(holdout),
            "machine": machine_info(),
        }
    )


if __name__ == "__main__":
    main()
