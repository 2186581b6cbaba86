"""Judge ablation: what each check of the rule reader is worth on answers it was not developed on.

The rule reader (`distillscope/ice/judges/signals/reader.py`) was written reading audited rows of
ice-gold and of bench/data/ice-audit-extra.jsonl, so a check may have learned those rows rather than
how identity is stated. For each check, this script turns it off, rebuilds the scorer leave-one-model-
out exactly as `bench/judge_agreement.py` does (the scorer retrained on readings without the check), and
reports, beside the full judge:

- LOMO accuracy on ice-gold and on the extra audit: rows the rules were developed on (a check fitted
  to them shows up here and nowhere else);
- LOMO accuracy on round 3 (bench/data/ice-audit-round3.jsonl), which no rule was developed on;
- LOMO agreement with the paper's GPT-4o-mini labels on every other answer of the complete runs
  (about 7,100; noisy labels, ~0.89 right on loose, but many and never read to write a rule).

Round 4 (the audit kept for measurement only) is not used here, so it stays untouched by any choice
of rules. A check that raises neither round 3 nor the paper agreement, and implements no clause of
the rubric, would be serving audited rows only. Deltas are (figure without the check) - (full judge):
negative means the check helps. Figures are point estimates; round 3 has 180 rows, so one row moves
its figures by about 0.005.

    python bench/judge_ablation.py            # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, emit_json, emit_skipped, machine_info
from distillscope.ice.audit import Judged, audit_judge, load_gold
from distillscope.ice.judges import training
from distillscope.ice.judges.signals import reader as reader_module
from distillscope.ice.judges.signals.reader import RuleReader
from judge_agreement import AUDITS, GOLD, LABELS, UNTRAINED_AUDITS, split_design, weighted_sample

RESULTS = REPO / "bench" / "results" / "judge_ablation.json"
# check -> (what it reads, the rubric clause it implements or "")
CHECKS: dict[str, tuple[str, str]] = {
    "voiced_as_role": ("a vendor named as a role the prompt set up (named-model-roleplay)", "category table"),
    "near_claim": ("a vendor beside the speaker and a maker word, no bridge shape", ""),
    "third_person_answer": ("the prompt's model answered for in the third person", "clarification 7"),
    "other_maker": ("an invented maker (fictional-org)", "category table"),
    "other_maker_list": ("an invented maker in a list under a heading about the makers", "category table"),
    "elsewhere": ("the makers placed where they are not (wrong-origin)", "category table"),
    "denial": ("a denial of any maker (no-maker)", "clarification 5"),
    "policy": ("another vendor's policy cited as its own (vendor-policy)", "category table"),
}


@contextlib.contextmanager
def without(check: str | None) -> Iterator[None]:
    """The reader with `check` turned off (None: the full reader)."""
    if check is None:
        yield
    elif check == "other_maker_list":
        with mock.patch.object(reader_module, "_LIST_NAME", mock.Mock(finditer=lambda text: iter(()))):
            yield
    elif check == "voiced_as_role":
        with mock.patch.object(RuleReader, "_voiced_as_role", lambda *a, **k: False):
            yield
    else:
        with mock.patch.object(RuleReader, f"_{check}", lambda *a, **k: None):
            yield


def lomo_all_rows(pop: dict[str, int], check: str | None) -> dict[int, tuple[float, float]]:
    """(p_loose, p_strict) of every answer of each audited model, from a scorer built without that model."""
    trained = [GOLD / "dev-gold.jsonl", *AUDITS]
    with without(check):
        examples = training.load_examples(LABELS, trained)
    out: dict[int, tuple[float, float]] = {}
    for model in sorted({ex.model for ex in examples if ex.gold}):
        weights = training.build([ex for ex in examples if ex.model != model], pop)
        test = [ex for ex in examples if ex.model == model]
        p = training.probabilities(weights, test)
        out.update({ex.line: (float(a), float(b)) for ex, (a, b) in zip(test, p, strict=True)})
    return out


def figures(p: dict[int, tuple[float, float]], gold: Any, audited: set[int]) -> dict[str, Any]:
    opts = {"resamples": 200, "seed": 0}

    def judged(lines: list[int]) -> dict[int, Judged]:
        return {line: Judged(p[line][0] >= 0.5, p[line][1] >= 0.5) for line in lines}

    pop = dict(gold.strata_pop)
    a = audit_judge(gold.sample(), judged([g.line for g in gold.rows]), judge="lomo", **opts)
    out = {"gold_loose": a.loose.accuracy.value, "gold_strict": a.strict.accuracy.value}
    for path in AUDITS[:2]:  # the two it reports (extra, round3): the rules were developed reading them
        name = path.stem.removeprefix("ice-audit-")
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        for _kind, part, design in split_design(rows, pop, gold.labels):
            if part and design is not None:
                b = audit_judge(weighted_sample(part, design, gold.labels), judged([r["line"] for r in part]),
                                judge="lomo", **opts)  # fmt: skip
                out[f"{name}_loose"], out[f"{name}_strict"] = b.loose.accuracy.value, b.strict.accuracy.value
    rows = [(i, r) for i, r in enumerate(gold.labels) if r["complete_run"] and i not in audited and i in p]
    out["paper_loose"] = sum((p[i][0] >= 0.5) == r["loose"] for i, r in rows) / len(rows)
    strict_rows = [(i, r) for i, r in rows if r["model"] not in training.STRICT_LABEL_BROKEN]
    out["paper_strict"] = sum((p[i][1] >= 0.5) == r["strict"] for i, r in strict_rows) / len(strict_rows)
    out["paper_rows"] = len(rows)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checks", nargs="*", default=list(CHECKS), choices=list(CHECKS))
    ap.add_argument("--json-out", type=Path, default=RESULTS)
    args = ap.parse_args()
    for needed in (GOLD / "dev-gold.jsonl", LABELS):
        if not needed.is_file():
            emit_skipped(f"{needed} not found: this benchmark needs ../shared/data beside the repository")
            return
    gold = load_gold(GOLD, LABELS)
    audited: set[int] = set()
    for path in [GOLD / "dev-gold.jsonl", *AUDITS, *UNTRAINED_AUDITS]:
        audited |= {json.loads(x)["line"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()}
    t0 = time.perf_counter()
    full = figures(lomo_all_rows(dict(gold.strata_pop), None), gold, audited)
    results: dict[str, Any] = {"full judge": full}
    for check in args.checks:
        results[check] = figures(lomo_all_rows(dict(gold.strata_pop), check), gold, audited)
        print(f"  {check}: done", file=sys.stderr, flush=True)
    cols = ["gold_loose", "gold_strict", "extra_loose", "extra_strict", "round3_loose", "round3_strict",
            "paper_loose", "paper_strict"]  # fmt: skip
    rows = [["full judge", *(f"{full[c]:.3f}" for c in cols), ""]]
    for check in args.checks:
        r = results[check]
        rows.append([f"without {check}", *(f"{r[c] - full[c]:+.3f}" for c in cols), CHECKS[check][1]])
    print("Judge ablation: leave-one-model-out figures without each check, as deltas from the full judge")
    print("(gold, extra: rows the rules were developed on; round 3, paper: never read to write a rule)")
    head = ["", *(c.replace("_", " ") for c in cols), "rubric"]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  " + "  ".join(str(x).ljust(w) if i in (0, len(head) - 1) else str(x).rjust(w)
                               for i, (x, w) in enumerate(zip(r, widths, strict=True))))  # fmt: skip
    summary = {
        "bench": "judge_ablation",
        "paper_rows": full["paper_rows"],
        "full": {c: round(full[c], 4) for c in cols},
        "deltas": {k: {c: round(results[k][c] - full[c], 4) for c in cols} for k in args.checks},
        "checks": {k: {"reads": v[0], "rubric": v[1]} for k, v in CHECKS.items() if k in args.checks},
        "wall_s": round(time.perf_counter() - t0, 1),
        "machine": machine_info(),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(for_docs(summary), indent=1) + "\n", encoding="utf-8")
    emit_json(summary)


def for_docs(summary: dict[str, Any]) -> dict[str, Any]:
    """The results file: the docs site's table format (title, command, tables, notes) and the figures."""
    cols = list(summary["full"])
    rows = [["full judge", *(f"{summary['full'][c]:.3f}" for c in cols), ""]]
    rows += [
        [f"without {k}", *(f"{d[c]:+.3f}" for c in cols), summary["checks"][k]["rubric"]]
        for k, d in summary["deltas"].items()
    ]
    return {
        "title": "ICE judge ablation: each rule-reader check off, the scorer rebuilt leave-one-model-out",
        "command": "python bench/judge_ablation.py",
        "generated": str(summary["machine"].get("date_utc", ""))[:10],
        "tables": [
            {
                "title": "Figures of the full judge, then (figure without the check) - (full judge); negative: the check helps",
                "columns": ["", *(c.replace("_", " ") for c in cols), "rubric"],
                "rows": rows,
            }
        ],
        "notes": [
            "gold and extra: audited rows the rules were developed on; round 3: audited rows no rule was developed on; "
            f"paper: agreement with the paper's GPT-4o-mini labels on the other {summary['paper_rows']:,} answers of "
            "the complete runs (noisy labels, never read to write a rule). Round 4 is not used here.",
            "Round 3 has 180 rows: one row moves its figures by about 0.005.",
        ],
        "figures": summary,
    }


if __name__ == "__main__":
    main()
