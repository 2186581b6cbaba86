"""Memory: peak resident set of the two big offline jobs, each in its own process.

1. ICE rescore of 100,000 responses: the paper's 8,673 judged responses
   (../shared/data/paper-ice-labels.jsonl), repeated with small variations (a variant number
   in the question and the answer) to --responses rows, rescored with the rules judge:
   `distillscope ice rescore LOG --judge rules`.
2. Offline RSE of 20 models x 500 prompts: replay files generated here (answers assembled from
   sentences of public prompt sets, a different mix per model), scored with the offline judge:
   `distillscope rse run` (one reference, 19 tests) or `rse matrix` (every pair).

Each job is a child process; its peak RSS comes from `os.wait4` (the kernel's ru_maxrss of that
child, the figure `getrusage(RUSAGE_CHILDREN)` reports for the largest child), started from a
small launcher so that the figure is the job's own. Target: < 1 GiB.

    python bench/memory.py --responses 100000 --models 20 --prompts 500
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, emit_json, machine_info, print_table

LABELS = SHARED_DATA / "paper-ice-labels.jsonl"
ARENA = SHARED_DATA / "prompts" / "arena-hard-v0.1-questions.jsonl"
NUMINA = SHARED_DATA / "prompts" / "numina-cot-1k.jsonl"
TARGET_MB = 1024.0


# Runs the job and reports the job's own rusage. A child's ru_maxrss starts at the high-water
# mark of the process it was forked from (Linux records it at exec), so the job is started from
# this small launcher rather than from the benchmark process, which has read the whole corpus.
_LAUNCHER = """
import json, os, subprocess, sys
with open(sys.argv[2], "w") as log:
    proc = subprocess.Popen(sys.argv[3:], stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"exit_code": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, out)
"""


def run_measured(cmd: list[str], log: Path) -> dict[str, Any]:
    """Run `cmd` as a child of a small launcher: exit code, wall time, peak RSS (MiB) from wait4."""
    started = time.perf_counter()
    report = log.with_suffix(".rusage.json")
    subprocess.run([sys.executable, "-c", _LAUNCHER, str(report), str(log), *cmd], check=True)
    usage = json.loads(report.read_text(encoding="utf-8"))
    return {
        "exit_code": usage["exit_code"],
        "wall_s": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(usage["maxrss_kb"] / 1024.0, 1),
        "cpu_s": round(usage["cpu_s"], 2),
    }


def write_ice_log(path: Path, responses: int) -> int:
    """The paper's rows, cycled to `responses` rows; copy k>0 carries "(variant k)" in query and answer."""
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    with path.open("w", encoding="utf-8") as fh:
        for n in range(responses):
            row = dict(rows[n % len(rows)])
            k = n // len(rows)
            if k:
                row["query"] = f"{row['query']} (variant {k})"
                row["response"] = f"{row['response']}\n(variant {k})"
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return responses


def sentence_pool() -> list[str]:
    """Sentences of public solutions (NuminaMath) to build answers of realistic length from."""
    pool: list[str] = []
    for line in NUMINA.read_text(encoding="utf-8").splitlines():
        if line.strip():
            text = json.loads(line).get("solution", "")
            pool.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 20 <= len(s.strip()) <= 300)
    return pool


def write_replay_models(folder: Path, models: int, prompts: int, seed: int = 0) -> list[Path]:
    """`models` replay files answering the first `prompts` Arena-Hard prompts; model m shares a
    growing share of its sentences with model 0, so similarities differ between pairs."""
    questions = [json.loads(line) for line in ARENA.read_text(encoding="utf-8").splitlines() if line.strip()][
        :prompts
    ]
    pool = sentence_pool()
    base_rng = random.Random(seed)
    base = [[base_rng.choice(pool) for _ in range(6)] for _ in questions]
    paths = []
    for m in range(models):
        rng = random.Random(seed + 1 + m)
        keep = 1.0 - m / max(models, 1)  # model 0 is the base, later models drift away
        path = folder / f"model{m:02d}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for q, sentences in zip(questions, base, strict=True):
                answer = [s if rng.random() < keep else rng.choice(pool) for s in sentences]
                if m % 2:
                    answer = ["Sure! Here is a step-by-step answer.", *answer]
                fh.write(
                    json.dumps(
                        {"id": q["uid"], "prompt": q["prompt"], "response": " ".join(answer)},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--responses", type=int, default=100_000, help="ICE rescore: responses in the log")
    parser.add_argument("--models", type=int, default=20, help="RSE: models (replay files)")
    parser.add_argument(
        "--prompts", type=int, default=500, help="RSE: Arena-Hard prompts per model (at most 500)"
    )
    parser.add_argument("--rse-command", choices=("run", "matrix"), default="run")
    parser.add_argument(
        "--encoder",
        choices=("auto", "minilm", "minilm-onnx", "wordllama"),
        default="auto",
        help="RSE offline encoder",
    )
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="RSE: run the same command again (embeddings from the disk cache)",
    )
    parser.add_argument("--skip-ice", action="store_true")
    parser.add_argument("--skip-rse", action="store_true")
    args = parser.parse_args(argv)
    if args.responses < 1 or args.models < 2 or not 1 <= args.prompts <= 500:
        parser.error("--responses >= 1, --models >= 2, 1 <= --prompts <= 500")

    machine = machine_info()
    ice: dict[str, Any] = {"skipped": "--skip-ice"} if args.skip_ice else {}
    rse: dict[str, Any] = {"skipped": "--skip-rse"} if args.skip_rse else {}
    cli = [sys.executable, "-m", "distillscope"]
    with tempfile.TemporaryDirectory(prefix="ds-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if not ice:
            if not LABELS.exists():
                ice = {"skipped": f"{LABELS} not present"}
            else:
                log = tmp / "ice-log.jsonl"
                write_ice_log(log, args.responses)
                ice = run_measured(
                    [
                        *cli,
                        "ice",
                        "rescore",
                        str(log),
                        "--judge",
                        "rules",
                        "--out",
                        str(tmp / "ice"),
                        "--quiet",
                    ],
                    tmp / "ice.out",
                )
                ice.update(responses=args.responses, log_mb=round(log.stat().st_size / 2**20, 1))
                if ice["exit_code"] != 0:
                    ice["error"] = (tmp / "ice.out").read_text(encoding="utf-8")[-1500:]
        if not rse:
            if not (ARENA.exists() and NUMINA.exists()):
                rse = {"skipped": f"{ARENA} or {NUMINA} not present"}
            else:
                paths = write_replay_models(tmp, args.models, args.prompts)
                subset = tmp / "arena-subset.jsonl"
                subset.write_text(
                    "".join(ARENA.read_text(encoding="utf-8").splitlines(keepends=True)[: args.prompts]),
                    encoding="utf-8",
                )
                specs = [f"replay:{p}" for p in paths]
                if args.rse_command == "run":
                    model_args = ["--reference", specs[0]]
                    for spec in specs[1:]:
                        model_args += ["--test", spec]
                else:
                    model_args = [a for spec in specs for a in ("--model", spec)]
                command = [*cli, "rse", args.rse_command, *model_args, "--dataset", f"arena={subset}",
                           "--judge", "offline", "--encoder", args.encoder, "--out", str(tmp / "rse"), "--quiet"]  # fmt: skip
                rse = run_measured(command, tmp / "rse.out")
                rse.update(
                    models=args.models,
                    prompts=args.prompts,
                    command=f"rse {args.rse_command}",
                    encoder=args.encoder,
                )
                if rse["exit_code"] != 0:
                    rse["error"] = (tmp / "rse.out").read_text(encoding="utf-8")[-1500:]
                elif args.rerun:
                    (tmp / "rse" / "results.json").unlink()
                    rse["rerun"] = run_measured(command, tmp / "rse-rerun.out")

    def verdict(part: dict[str, Any]) -> bool | None:
        if "peak_rss_mb" not in part or part.get("exit_code") != 0:
            return None
        return bool(part["peak_rss_mb"] < TARGET_MB)

    figures = {
        "ice_rescore_peak_rss_mb": ice.get("peak_rss_mb"),
        "ice_rescore_responses": args.responses,
        "rse_peak_rss_mb": rse.get("peak_rss_mb"),
        "rse_models": args.models,
        "rse_prompts": args.prompts,
        "target_mb": TARGET_MB,
        "ice_meets_target": verdict(ice),
        "rse_meets_target": verdict(rse),
        "ice": ice,
        "rse": rse,
        "cores": machine["cores"],
        "cpu_model": machine["cpu_model"],
        "load_avg": machine["load_avg"],
    }

    def show(part: dict[str, Any], key: str) -> Any:
        if "skipped" in part:
            return f"skipped: {part['skipped']}"
        if part.get("exit_code"):
            return f"failed (exit {part['exit_code']}): {part.get('error', '').strip().splitlines()[-1:]}"
        return part.get(key)

    print_table(
        "memory: peak RSS of each job's process (MiB; target < 1024)",
        [
            (f"ICE rescore, {args.responses:,} responses: peak RSS MiB", show(ice, "peak_rss_mb")),
            ("  wall s / CPU s", f"{show(ice, 'wall_s')} / {show(ice, 'cpu_s')}"),
            (
                f"RSE {args.rse_command}, {args.models} models x {args.prompts} prompts: peak RSS MiB",
                show(rse, "peak_rss_mb"),
            ),
            ("  wall s / CPU s", f"{show(rse, 'wall_s')} / {show(rse, 'cpu_s')}"),
            ("  encoder", rse.get("encoder", "—")),
            (
                "  rerun (embeddings from the disk cache): wall s / peak RSS MiB",
                f"{show(rse['rerun'], 'wall_s')} / {show(rse['rerun'], 'peak_rss_mb')}"
                if rse.get("rerun")
                else "- (no --rerun)",
            ),
            ("machine", f"{machine['cores']} cores, {machine['cpu_model']}, load {machine['load_avg']}"),
        ],
    )
    emit_json(figures)


if __name__ == "__main__":
    main()
