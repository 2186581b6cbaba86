"""`rse attribute --bank`: one test model against a reference bank, through the CLI.

A synthetic bank (text generated here from a seed, no third-party text) in FastChat's layout:
`--models` models of five vendors (names the identity registry places: gpt-*, claude-*, gemini-*
and gemma-*, llama-*, qwen-*), `--prompts` prompts, answers of a few hundred words in a house style
per vendor and a quirk per model. The test model writes in one vendor's style and is not in the bank.

Timed, each a new `python -m distillscope` process with its own run directory:

    bank        --bank DIR --test replay:TEST (cold: new ledger, new feature cache)
    family      the same run written by hand: --family VENDOR=replay:FILE per model, --dataset
    bank warm   the bank run again into a new directory sharing the first's ledger (--cache): every
                answer and every answer's features come from the ledger and its feature cache

Ratio: bank / family (the bank's own cost). `--memory-models 100` also runs a bank of that many
models and reports the peak RSS of the process (kernel ru_maxrss via wait4).

`--mt-bench` also emulates the held-out check of issue 22 on the shared MT-bench answers (no
Arena-Hard answers are stored here): the bank is all MT-bench models the registry places, each of
five vendor models held out in turn as the test; counts how often its vendor is named.

Writes bench/results/banks.json (the docs site renders it) with --write-results.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, emit_json, machine_info, print_table
from memory import run_measured

VENDORS = {
    "openai": ("gpt-4-synth", "gpt-3.5-synth", "gpt-4o-synth"),
    "anthropic": ("claude-2-synth", "claude-3-synth", "claude-instant-synth"),
    "google": ("gemini-pro-synth", "gemma-7b-synth", "gemini-flash-synth"),
    "meta": ("llama-2-synth", "llama-3-synth", "llama-3.1-synth"),
    "alibaba-cloud": ("qwen-7b-synth", "qwen-72b-synth", "qwen-2-synth"),
}
# the house styles: written for this benchmark
STYLES = {
    "openai": (
        ["Certainly! Here is", "Sure, here's"],
        ["crucial", "delve", "comprehensive", "ensure"],
        "\n1. ",
        "I hope this helps!",
    ),
    "anthropic": (
        ["I'd be happy to explain", "Let me walk through"],
        ["nuanced", "thoughtful", "worth noting", "genuinely"],
        "\n- ",
        "Let me know if you'd like more detail.",
    ),
    "google": (
        ["Here's a breakdown of", "Okay, let's look at"],
        ["key", "important", "consider", "overall"],
        "\n* ",
        "**In short:** that is the gist.",
    ),
    "meta": (
        ["Great question! So", "Hey! About"],
        ["basically", "pretty", "really", "stuff"],
        "\n• ",
        "Hope that makes sense :)",
    ),
    "alibaba-cloud": (
        ["To address", "Regarding"],
        ["furthermore", "moreover", "thus", "accordingly"],
        "\n(1) ",
        "In conclusion, the above holds.",
    ),
}
WORDS = [
    "the",
    "of",
    "to",
    "and",
    "a",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "this",
    "be",
    "are",
    "can",
    "by",
    "or",
    "at",
    "from",
    "system",
    "value",
    "time",
    "data",
    "process",
    "method",
    "result",
    "example",
    "case",
    "point",
    "number",
    "part",
    "model",
    "way",
    "change",
    "rate",
    "level",
    "form",
    "step",
    "rule",
    "order",
    "plan",
    "cost",
    "test",
    "group",
    "line",
    "field",
    "state",
    "source",
    "range",
    "unit",
    "base",
    "power",
]
TOPICS = [
    "river",
    "tax",
    "python",
    "poem",
    "sleep",
    "star",
    "bread",
    "chess",
    "train",
    "rain",
    "music",
    "debt",
    "cell",
    "map",
    "salt",
    "glass",
    "bee",
    "wind",
    "clay",
    "ink",
    "garden",
    "engine",
    "bridge",
    "market",
    "cloud",
    "forest",
    "ocean",
    "castle",
    "violin",
    "lantern",
]


def prompt_text(i: int) -> str:
    return (
        f"Question {i}: explain {TOPICS[i % len(TOPICS)]} and {TOPICS[(i * 7 + 3) % len(TOPICS)]} (case {i})."
    )


def answer(rng: random.Random, vendor: str, quirk: str, i: int, words: int) -> str:
    openers, pets, bullet, closer = STYLES[vendor]
    topic = TOPICS[i % len(TOPICS)]
    body = [*rng.choices(WORDS, k=words), *([topic] * 6), *rng.choices(pets, k=words // 15), *([quirk] * 3)]
    rng.shuffle(body)
    lines = [" ".join(body[j : j + 12]) for j in range(0, len(body), 12)]
    return f"{rng.choice(openers)} {topic}:{bullet}" + bullet.join(lines) + f"\n\n{closer}"


def bank_models(n: int) -> list[tuple[str, str]]:
    """(model name, vendor): the five vendors' names in turn, numbered past the first round."""
    names = [
        (m, v) for round_ in range(n) for v, ms in VENDORS.items() for m in ms[round_ % 3 : round_ % 3 + 1]
    ]
    out: list[tuple[str, str]] = []
    for k, (name, vendor) in enumerate(names[:n]):
        out.append((f"{name}-{k // len(VENDORS) + 1}", vendor))
    return out


def write_bank(folder: Path, models: list[tuple[str, str]], prompts: int, words: int, seed: int = 0) -> None:
    (folder / "model_answer").mkdir(parents=True, exist_ok=True)
    with (folder / "question.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(prompts):
            fh.write(
                json.dumps({"question_id": i + 1, "category": "synthetic", "turns": [prompt_text(i)]}) + "\n"
            )
    for name, vendor in models:
        write_answers(folder / "model_answer" / f"{name}.jsonl", name, vendor, prompts, words, seed)


def write_answers(path: Path, name: str, vendor: str, prompts: int, words: int, seed: int) -> None:
    rng = random.Random(f"{name}-{seed}")
    quirk = f"quirk{sum(map(ord, name)) % 997}"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(prompts):
            row = {
                "question_id": i + 1,
                "model_id": name,
                "choices": [{"index": 0, "turns": [answer(rng, vendor, quirk, i, words)]}],
            }
            fh.write(json.dumps(row) + "\n")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "distillscope", "rse", "attribute", "--quiet", *args]


def timed(cmd: list[str], log: Path) -> dict[str, Any]:
    figures = run_measured(cmd, log)
    if figures["exit_code"] != 0:
        print(log.read_text(encoding="utf-8")[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd[:8])} ... (exit {figures['exit_code']})")
    return figures


def results_of(out: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return found


def speed(work: Path, n_models: int, prompts: int, words: int) -> dict[str, Any]:
    bank = work / "bank"
    models = bank_models(n_models)
    write_bank(bank, models, prompts, words)
    test = work / "distilled-synth.jsonl"
    write_answers(test, "distilled-synth", "openai", prompts, words, seed=99)
    bank_run = timed(
        cli("--bank", str(bank), "--test", f"replay:{test}", "--out", str(work / "r-bank")), work / "bank.log"
    )
    # the --family form of what the bank placed, in its order (families sorted, members in file order)
    placed = results_of(work / "r-bank")["bank"]["families"]
    families = [
        a
        for vendor, names in placed.items()
        for name in names
        for a in ("--family", f"{vendor}=replay:{bank / 'model_answer' / name}.jsonl")
    ]
    dataset = ["--dataset", f"bank={bank / 'question.jsonl'}"]
    family_run = timed(
        cli(*families, *dataset, "--test", f"replay:{test}", "--out", str(work / "r-family")),
        work / "family.log",
    )
    warm = timed(
        cli(
            "--bank",
            str(bank),
            "--test",
            f"replay:{test}",
            "--out",
            str(work / "r-warm"),
            "--cache",
            str(work / "r-bank" / "ledger.sqlite"),
        ),
        work / "warm.log",
    )
    a, b = results_of(work / "r-bank"), results_of(work / "r-family")
    same = a["models"] == b["models"]
    return {
        "models": n_models, "prompts": prompts, "words_per_answer": words,
        "bank_wall_s": bank_run["wall_s"], "family_wall_s": family_run["wall_s"], "bank_warm_wall_s": warm["wall_s"],
        "ratio_bank_vs_family": round(bank_run["wall_s"] / family_run["wall_s"], 3),
        "bank_cpu_s": bank_run["cpu_s"], "family_cpu_s": family_run["cpu_s"], "bank_warm_cpu_s": warm["cpu_s"],
        "cpu_ratio_bank_vs_family": round(bank_run["cpu_s"] / family_run["cpu_s"], 3),
        "bank_peak_rss_mb": bank_run["peak_rss_mb"], "family_peak_rss_mb": family_run["peak_rss_mb"],
        "same_result_as_family_form": same, "predicted": a["models"]["distilled-synth"]["predicted"],
    }  # fmt: skip


def memory(work: Path, n_models: int, prompts: int, words: int) -> dict[str, Any]:
    """A big bank: one model per vendor defines the families, the manifest marks the rest controls,
    so every answer of every model is read, answered through the ledger, featurised and scored,
    while the classifier fits stay those of five models (the fits' time grows with the family
    members left out in turn; their memory does not)."""
    bank = work / "bank-big"
    models = bank_models(n_models)
    write_bank(bank, models, prompts, words)
    manifest = work / "bank.yaml"
    controls = "".join(f"  - {m}\n" for m, _ in models[len(VENDORS) :])
    manifest.write_text(f"controls:\n{controls}", encoding="utf-8")
    test = work / "distilled-synth.jsonl"
    write_answers(test, "distilled-synth", "openai", prompts, words, seed=99)
    args = ("--bank", str(bank), "--bank-manifest", str(manifest), "--test", f"replay:{test}")
    run = timed(cli(*args, "--out", str(work / "r-mem")), work / "mem.log")
    return {
        "models": n_models,
        "prompts": prompts,
        "wall_s": run["wall_s"],
        "peak_rss_mb": run["peak_rss_mb"],
        "cpu_s": run["cpu_s"],
    }


# models whose vendor keeps other models in the bank when they are held out (a vendor sibling is there
# to be recognised): palm-2 is Google's only MT-bench model, so it cannot be named once held out
MT_HELD_OUT = ("gpt-4", "claude-v1", "vicuna-13b-v1.3", "mpt-30b-chat", "wizardlm-13b")


def mt_bench(work: Path, sample: int, held_out: tuple[str, ...] = MT_HELD_OUT) -> list[dict[str, Any]]:
    """Each of five MT-bench models held out of the bank in turn and attributed against the rest."""
    from distillscope.ice.identity import IdentityRegistry
    from distillscope.rse.banks.grouping import group_name

    source = SHARED_DATA / "mt-bench"
    registry = IdentityRegistry.builtin()
    rows = []
    for held in held_out:
        identity = registry.for_model(held)
        assert identity is not None
        test = source / "model_answer" / f"{held}.jsonl"
        out = work / f"mt-{held}"
        run = timed(
            cli(
                "--bank", str(source), "--test", f"replay:{test}", "--sample", str(sample), "--out", str(out)
            ),
            work / f"mt-{held}.log",
        )
        found = results_of(out)
        rows.append({
            "held_out": held, "vendor": group_name(identity.organisation),
            "predicted": found["models"][held]["predicted"], "wall_s": run["wall_s"],
            "bank_models": sum(len(v) for v in found["bank"]["families"].values()),
            "families": len(found["families"]),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=15)
    parser.add_argument("--prompts", type=int, default=500)
    parser.add_argument("--words", type=int, default=150, help="words per synthetic answer")
    parser.add_argument(
        "--memory-models", type=int, default=0, help="also a bank of this many models (peak RSS)"
    )
    parser.add_argument("--memory-prompts", type=int, default=500)
    parser.add_argument("--mt-bench", action="store_true", help="the held-out vendor check on MT-bench")
    parser.add_argument("--mt-sample", type=int, default=40)
    parser.add_argument(
        "--mt-models", default=",".join(MT_HELD_OUT), help="the MT-bench models held out in turn"
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the timed bank / family runs")
    parser.add_argument(
        "--write-results",
        action="store_true",
        help="write bench/results/banks.json (tables of the parts run here replace those of earlier runs)",
    )
    args = parser.parse_args(argv)
    machine = machine_info()
    work = Path(tempfile.mkdtemp(prefix="bench-banks-"))
    try:
        started = time.perf_counter()
        figures: dict[str, Any] = {"machine": machine}
        if not args.no_speed:
            figures["speed"] = speed(work, args.models, args.prompts, args.words)
            print_speed(figures["speed"])
        if args.memory_models:
            figures["memory"] = memory(work, args.memory_models, args.memory_prompts, args.words)
            m = figures["memory"]
            print_table(
                f"{m['models']}-model bank, {m['prompts']} prompts",
                [("peak RSS MiB", m["peak_rss_mb"]), ("wall s", m["wall_s"])],
            )
        if args.mt_bench and not (SHARED_DATA / "mt-bench").is_dir():
            figures["mt_bench"] = {"skipped": f"no MT-bench answers at {SHARED_DATA / 'mt-bench'}"}
            print(f"MT-bench held-out check skipped: {figures['mt_bench']['skipped']}")
        elif args.mt_bench:
            rows = mt_bench(work, args.mt_sample, tuple(args.mt_models.split(",")))
            figures["mt_bench_held_out"] = rows
            named = sum(r["predicted"] == r["vendor"] for r in rows)
            print_table("MT-bench as a bank, models held out in turn", [
                *((f"{r['held_out']} ({r['vendor']})", f"{r['predicted']}  {r['wall_s']} s") for r in rows),
                ("vendor named", f"{named} of {len(rows)}"),
            ])  # fmt: skip
        figures["total_s"] = round(time.perf_counter() - started, 1)
        if args.write_results:
            write_results(figures, argv if argv is not None else sys.argv[1:])
        emit_json(figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_speed(s: dict[str, Any]) -> None:
    print_table(
        f"rse attribute: one test vs a {s['models']}-model, {s['prompts']}-prompt bank (through the CLI)",
        [
            ("--bank (cold) wall s", s["bank_wall_s"]),
            ("--family form wall s", s["family_wall_s"]),
            ("ratio bank / family", s["ratio_bank_vs_family"]),
            ("--bank warm (ledger + feature cache) wall s", s["bank_warm_wall_s"]),
            ("peak RSS MiB (bank)", s["bank_peak_rss_mb"]),
            (
                "CPU s: bank / family / bank warm",
                f"{s['bank_cpu_s']} / {s['family_cpu_s']} / {s['bank_warm_cpu_s']}",
            ),
            ("CPU ratio bank / family", s["cpu_ratio_bank_vs_family"]),
            ("same results as the --family form", s["same_result_as_family_form"]),
            ("target <= 120 s met", s["bank_wall_s"] <= 120),
        ],
    )


def speed_notes(figures: dict[str, Any]) -> list[str]:
    """Whether this run met the 120 s target, by CPU and by wall time."""
    if "speed" not in figures:
        return []
    s = figures["speed"]
    return [
        f"This run, --bank cold: {s['bank_cpu_s']} CPU s ({'met' if s['bank_cpu_s'] <= 120 else 'not met'}), "
        f"{s['bank_wall_s']} s wall ({'met' if s['bank_wall_s'] <= 120 else 'not met'} at this load)."
    ]


def write_results(figures: dict[str, Any], argv: list[str]) -> None:
    m = figures["machine"]
    tables: list[dict[str, Any]] = []
    if "speed" in figures:
        s = figures["speed"]
        tables.append({
        "title": f"One test model against a {s['models']}-model, {s['prompts']}-prompt bank (CLI, {m['cores']} cores, load {m['load_avg']})",
        "columns": ["run", "wall s", "CPU s", "peak RSS MiB"],
        "rows": [
            ["--bank (cold ledger and feature cache)", s["bank_wall_s"], s["bank_cpu_s"], s["bank_peak_rss_mb"]],
            ["--family form, same models and prompts", s["family_wall_s"], s["family_cpu_s"], s["family_peak_rss_mb"]],
            ["--bank again (answers and features cached)", s["bank_warm_wall_s"], s["bank_warm_cpu_s"], None],
            ["ratio bank / family", s["ratio_bank_vs_family"], s["cpu_ratio_bank_vs_family"], None],
        ],
    })  # fmt: skip
    if "memory" in figures:
        mm = figures["memory"]
        tables.append({
            "title": "Peak memory of a big bank (synthetic)",
            "columns": ["models", "prompts", "peak RSS MiB", "wall s"],
            "rows": [[mm["models"], mm["prompts"], mm["peak_rss_mb"], mm["wall_s"]]],
        })  # fmt: skip
    if "mt_bench_held_out" in figures:
        rows = figures["mt_bench_held_out"]
        tables.append({
            "title": "MT-bench as a FastChat bank, a model held out as the test (no manifest)",
            "columns": ["held out", "its vendor", "predicted", "bank models", "wall s"],
            "rows": [[r["held_out"], r["vendor"], r["predicted"], r["bank_models"], r["wall_s"]] for r in rows],
        })  # fmt: skip
    path = Path(__file__).resolve().parent / "results" / "banks.json"
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    kept = [
        t
        for t in previous.get("tables", [])
        if t["title"].split(" (")[0] not in {x["title"].split(" (")[0] for x in tables}
    ]
    command = "python bench/banks.py " + " ".join(argv)
    if previous.get("command") and previous["command"] != command:
        command = previous["command"] + "; " + command
    payload = {
        "title": "Reference banks: rse attribute --bank",
        "command": command,
        "generated": time.strftime("%Y-%m-%d", time.gmtime()),
        "tables": [*kept, *tables],
        "notes": [
            "Synthetic bank: text generated by the benchmark from a seed (five vendor styles, a quirk per model); no third-party text.",
            f"Machine shared with other jobs: load average {m['load_avg']} on {m['cores']} cores; times move with it.",
            "Both forms run the same cross-fitting; the bank's own cost is reading the folder and placing the models.",
            "Target: one test against a 15-model, 500-prompt bank in 120 s on 2 cores. CPU seconds are the fair figure on this shared machine (wall time moves with the other jobs); the time is in the classifier fits: 15 for the cross-fitting, one cross-fit per family member left out (at most two a family), one for the telling features. See bench/README.md.",
            *speed_notes(figures),
        ],
    }
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
