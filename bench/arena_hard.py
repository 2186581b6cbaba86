"""`rse attribute --bank` on real published answers (Arena-Hard's layout), each test model held out.

The acceptance check of issue 22: a bank of 16 models laid out as Arena-Hard publishes them
(`question.jsonl` + `model_answer/<model>.jsonl`), no manifest; each held-out model in turn is
left out of the bank (the bank is the other models) and attributed with

    distillscope rse attribute --bank BANK --test replay:SOURCE/model_answer/HELD.jsonl

through the CLI, as a user would, each run a new process with its own run directory (cold ledger
and feature cache). Per held-out model: the vendor the identity registry gives it, `predicted`
(the decision: a family or null), the family with the highest mean P(F) (the family its writing
resembles most), its own family's mean P, the in-run held-out-member check (bank members left out
of training: how many are attributed to their own family) and wall / CPU seconds.

No answer text is stored here or in bench/results/arena_hard.json (figures and model names only):
the answers stay where --source has them. Two fixed sets: `dev` (the 16-model bank the method was
chosen on) and `report` (16 other models, run only once the method was frozen); --bank-models and
--held-out override them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine_info, print_table
from memory import run_measured

SETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dev": (
        (
            "gpt-4-0314", "gpt-4-0613", "gpt-4o-2024-05-13", "gpt-3.5-turbo-0125",
            "claude-3-opus-20240229", "claude-3-sonnet-20240229", "claude-3-haiku-20240307",
            "gemini-1.5-pro-api-0514", "gemini-1.5-flash-api-0514", "gemma-2-27b-it",
            "llama-3-70b-instruct", "llama-3-8b-instruct", "llama-2-70b-chat",
            "mistral-large-2402", "mixtral-8x22b-instruct-v0.1", "mistral-7b-instruct",
        ),
        (
            "gpt-4-0613", "claude-3-sonnet-20240229", "gemini-1.5-flash-api-0514",
            "llama-3-8b-instruct", "mixtral-8x22b-instruct-v0.1",
        ),
    ),
    "report": (
        (
            "gpt-4-turbo-2024-04-09", "gpt-3.5-turbo-0613", "gpt-4-1106-preview", "gpt-4o-mini-2024-07-18",
            "claude-3-5-sonnet-20240620", "claude-2.1", "claude-2.0",
            "gemini-pro", "gemma-2-9b-it", "gemma-7b-it", "gemini-1.5-pro-api-0409-preview",
            "llama-3.1-70b-instruct", "llama-3.1-8b-instruct", "llama-3.1-405b-instruct-fp8",
            "mistral-large-2407", "mixtral-8x7b-instruct-v0.1",
        ),
        ("gpt-4-1106-preview", "claude-2.1", "gemma-2-9b-it", "llama-3.1-8b-instruct", "mixtral-8x7b-instruct-v0.1"),
    ),
}  # fmt: skip
TARGET_S = 120.0


def vendor_of(model: str) -> str | None:
    from distillscope.ice.identity import IdentityRegistry
    from distillscope.rse.banks.grouping import group_name

    identity = IdentityRegistry.builtin().for_model(model)
    return group_name(identity.organisation) if identity is not None else None


def make_bank(source: Path, models: list[str], folder: Path) -> None:
    """The bank as Arena-Hard lays it out, its files linked (never copied) from `source`."""
    (folder / "model_answer").mkdir(parents=True)
    (folder / "question.jsonl").symlink_to((source / "question.jsonl").resolve())
    for m in models:
        (folder / "model_answer" / f"{m}.jsonl").symlink_to(
            (source / "model_answer" / f"{m}.jsonl").resolve()
        )


def attribute_held_out(
    source: Path, bank_models: list[str], held: str, work: Path, sample: int | None
) -> dict[str, Any]:
    bank = work / f"bank-{held}"
    make_bank(source, [m for m in bank_models if m != held], bank)
    out = work / f"run-{held}"
    cmd = [sys.executable, "-m", "distillscope", "rse", "attribute", "--quiet", "--bank", str(bank)]
    cmd += ["--test", f"replay:{(source / 'model_answer' / f'{held}.jsonl').resolve()}", "--out", str(out)]
    cmd += ["--sample", str(sample)] if sample else []
    run = run_measured(cmd, work / f"{held}.log")
    if run["exit_code"] != 0:
        print((work / f"{held}.log").read_text(encoding="utf-8")[-3000:], file=sys.stderr)
        raise SystemExit(f"rse attribute failed for {held} (exit {run['exit_code']})")
    found = json.loads((out / "results.json").read_text(encoding="utf-8"))
    model = found["models"][held]
    scores = {f: p["score"] for f, p in model["probabilities"].items()}
    vendor = vendor_of(held)
    members = found.get("held_out_members") or {}
    family_of = {m: f for f, ms in found["bank"]["families"].items() for m in ms}
    member_best = {
        m: max(r["probabilities"], key=lambda f: r["probabilities"][f]["score"] or 0.0)
        for m, r in members.items()
    }
    return {
        "held_out": held,
        "vendor": vendor,
        "predicted": model["predicted"],
        "resembles_most": max(scores, key=lambda f: scores[f] or 0.0),
        "own_score": scores.get(vendor or ""),
        "scores": scores,
        "members_checked": len(members),
        "members_own_most": sum(member_best[m] == family_of[m] for m in members),
        "members_predicted_own": sum(r["predicted"] == family_of[m] for m, r in members.items()),
        "own_family_accuracy": {f: c["accuracy"] for f, c in found["held_out"].items()},
        "wall_s": run["wall_s"],
        "cpu_s": run["cpu_s"],
        "peak_rss_mb": run["peak_rss_mb"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="a folder in Arena-Hard's layout")
    parser.add_argument(
        "--set", choices=sorted(SETS), default="dev", help="the fixed bank and held-out models"
    )
    parser.add_argument("--bank-models", help="comma-separated bank models (overrides --set)")
    parser.add_argument("--held-out", help="comma-separated models held out in turn (overrides --set)")
    parser.add_argument("--sample", type=int, help="prompts per run (--sample of rse attribute; default all)")
    parser.add_argument("--write-results", action="store_true", help="write bench/results/arena_hard.json")
    args = parser.parse_args(argv)
    bank_models = args.bank_models.split(",") if args.bank_models else list(SETS[args.set][0])
    held_out = args.held_out.split(",") if args.held_out else list(SETS[args.set][1])
    missing = [
        m for m in {*bank_models, *held_out} if not (args.source / "model_answer" / f"{m}.jsonl").is_file()
    ]
    if missing:
        raise SystemExit(f"{args.source}/model_answer has no answers of: {', '.join(sorted(missing))}")
    machine = machine_info()
    work = Path(tempfile.mkdtemp(prefix="bench-arena-"))
    try:
        rows = [attribute_held_out(args.source, bank_models, h, work, args.sample) for h in held_out]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = summarise(rows, bank_models, machine, args)
    print_rows(figures)
    if args.write_results:
        write_results(figures, argv if argv is not None else sys.argv[1:])
    emit_json(figures)


def summarise(
    rows: list[dict[str, Any]], bank_models: list[str], machine: dict[str, Any], args: Any
) -> dict[str, Any]:
    return {
        "set": None if args.bank_models or args.held_out else args.set,
        "bank_models": bank_models,
        "sample": args.sample,
        "machine": machine,
        "load_after": machine_info()["load_avg"],
        "rows": rows,
        "vendor_predicted": sum(r["predicted"] == r["vendor"] for r in rows),
        "vendor_resembles_most": sum(r["resembles_most"] == r["vendor"] for r in rows),
        "held_out": len(rows),
        "max_wall_s": max((r["wall_s"] for r in rows), default=0.0),
        "max_cpu_s": max((r["cpu_s"] for r in rows), default=0.0),
        "all_within_target": all(r["wall_s"] <= TARGET_S for r in rows),
    }


def print_rows(f: dict[str, Any]) -> None:
    print_table(
        f"rse attribute --bank: {len(f['bank_models'])}-model bank ({f['set'] or 'custom'}), each held out in turn",
        [
            *(
                (
                    f"{r['held_out']} ({r['vendor']})",
                    f"predicted {r['predicted']}, most like {r['resembles_most']} "
                    f"(own P {r['own_score']}), members {r['members_own_most']}/{r['members_checked']}, "
                    f"{r['wall_s']} s wall, {r['cpu_s']} CPU s",
                )
                for r in f["rows"]
            ),
            ("vendor predicted", f"{f['vendor_predicted']} of {f['held_out']}"),
            ("vendor resembled most", f"{f['vendor_resembles_most']} of {f['held_out']}"),
            ("slowest run wall s / CPU s", f"{f['max_wall_s']} / {f['max_cpu_s']}"),
            (f"every run <= {TARGET_S:.0f} s wall", f["all_within_target"]),
            ("load average before / after", f"{f['machine']['load_avg']} / {f['load_after']}"),
        ],
    )


def write_results(f: dict[str, Any], argv: list[str]) -> None:
    """bench/results/arena_hard.json: one table per set (a rerun of a set replaces its table)."""
    m = f["machine"]
    table = {
        "title": f"Arena-Hard v0.1, {f['set'] or 'custom'} bank of {len(f['bank_models'])} models, each test held out",
        "columns": ["held out", "vendor", "predicted", "resembles most", "own P", "members own/checked", "wall s", "CPU s"],
        "rows": [
            [r["held_out"], r["vendor"], r["predicted"], r["resembles_most"], r["own_score"],
             f"{r['members_own_most']}/{r['members_checked']}", r["wall_s"], r["cpu_s"]]
            for r in f["rows"]
        ],
        "summary": {
            "vendor_predicted": f["vendor_predicted"], "vendor_resembles_most": f["vendor_resembles_most"],
            "held_out": f["held_out"], "max_wall_s": f["max_wall_s"], "max_cpu_s": f["max_cpu_s"],
            "load_avg": m["load_avg"], "cores": m["cores"], "bank_models": f["bank_models"],
        },
    }  # fmt: skip
    path = Path(__file__).resolve().parent / "results" / "arena_hard.json"
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    kept = [t for t in previous.get("tables", []) if t["title"] != table["title"]]
    payload = {
        "title": "Reference banks on real answers: Arena-Hard v0.1",
        "command": "python bench/arena_hard.py " + " ".join(argv),
        "generated": time.strftime("%Y-%m-%d", time.gmtime()),
        "tables": [*kept, table],
        "notes": [
            "Figures only: no answer text is stored (the answers stay in --source).",
            "predicted: the run's decision (a family, or null to abstain); resembles most: the family of highest mean P(F).",
            f"Machine shared with other jobs: {m['cores']} cores; load average with each table.",
        ],
    }
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
