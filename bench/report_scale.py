"""`distillscope report` over many small RSE runs: seconds per run at each size, through the CLI.

A reviewer's 500 small RSE runs took 2 min 14 s to report (one matplotlib figure per run). This
builds one small RSE run through the CLI (`rse run`, replay answers, the offline judge), copies it
into N run directories for each size, and times `python -m distillscope report DIR --out F.html`
in a new process, as a user runs it. Per-run time at the largest size over that at the smallest
is the scaling ratio (linear ≈ 1; the fixed start-up of a process makes it fall below 1, so the
marginal cost of a run between the smallest and largest size is given too). With a baseline
(`git archive BASELINE src`), the code before the fix is timed the same way and the ratio
old / new is given per size.

    python bench/report_scale.py [--runs 25,100,400] [--baseline 5e1bf55] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, baseline_src, emit_json, machine_info, print_table, run_cli

BASELINE = "5e1bf55"  # main before the RSE chart was written as SVG directly
RUN_FILES = ("config.json", "results.json", "responses.jsonl", "judgments.jsonl")


def one_rse_run(work: Path, prompts: int) -> Path:
    """A small RSE run made by the CLI: a reference and a test model replayed, the offline judge."""
    data = work / "data"
    data.mkdir()
    (data / "q.jsonl").write_text(
        "".join(
            json.dumps({"id": f"q{i}", "prompt": f"Topic {i}: explain it"}) + "\n" for i in range(prompts)
        ),
        encoding="utf-8",
    )
    for name in ("ref", "test"):
        (data / f"{name}.jsonl").write_text(
            "".join(
                json.dumps({"id": f"q{i}", "response": f"{name} on {i}. First, step one. Then step two."})
                + "\n"
                for i in range(prompts)
            ),
            encoding="utf-8",
        )
    out = work / "base-run"
    run_cli(
        ["rse", "run", "--reference", f"replay:{data / 'ref.jsonl'}", "--test", f"replay:{data / 'test.jsonl'}",
         "--dataset", f"d={data / 'q.jsonl'}", "--judge", "offline", "--quiet", "--out", str(out)],
        REPO / "src",
    )  # fmt: skip
    return out


def copies(base: Path, folder: Path, n: int) -> Path:
    """`n` run directories holding the base run's files (what `report` reads)."""
    for i in range(n):
        run = folder / f"run{i:04d}"
        run.mkdir(parents=True)
        for name in RUN_FILES:
            shutil.copyfile(base / name, run / name)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="25,100,400", help="comma-separated numbers of run directories")
    parser.add_argument("--prompts", type=int, default=10, help="prompts per run")
    parser.add_argument("--baseline", default=BASELINE, help="commit of the code before the fix")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    sizes = sorted({int(x) for x in args.runs.split(",") if x.strip()})
    machine = machine_info()
    work = Path(tempfile.mkdtemp(prefix="report-scale-"))
    try:
        base = one_rse_run(work, args.prompts)
        codes = {"new": REPO / "src"}
        if not args.skip_baseline:
            codes["old"] = baseline_src(args.baseline, work)
        figures: dict[str, dict[str, dict[str, float]]] = {code: {} for code in codes}
        rows: list[tuple[str, Any]] = []
        for n in sizes:
            folder = copies(base, work / f"runs{n}", n)
            for code, path in codes.items():
                target = work / f"report-{code}-{n}.html"
                wall, cpu, _ = run_cli(["report", str(folder), "--out", str(target)], path)
                size_kib = target.stat().st_size / 1024
                figures[code][str(n)] = {
                    "wall_s": round(wall, 3),
                    "cpu_s": round(cpu, 3),
                    "s_per_run": round(wall / n, 4),
                    "html_kib": round(size_kib, 1),
                }
                rows.append((f"{code} code, {n} runs: wall s / CPU s", f"{wall:.2f} / {cpu:.2f}"))
                rows.append(
                    (f"{code} code, {n} runs: s per run, HTML KiB", f"{wall / n:.4f}, {size_kib:,.0f}")
                )
            shutil.rmtree(folder)
        result: dict[str, Any] = {"runs": sizes, "prompts_per_run": args.prompts, **figures}
        small, large = str(sizes[0]), str(sizes[-1])
        result["scaling_ratio"] = {
            code: round(figures[code][large]["s_per_run"] / figures[code][small]["s_per_run"], 3)
            for code in codes
        }
        if len(sizes) > 1:  # the cost of one more run, start-up left out: flat when linear
            result["marginal_s_per_run"] = {
                code: round(
                    (figures[code][large]["wall_s"] - figures[code][small]["wall_s"])
                    / (sizes[-1] - sizes[0]),
                    4,
                )
                for code in codes
            }
            rows.append((f"marginal s per run, {small} to {large} runs", result["marginal_s_per_run"]))
        if "old" in codes:
            result["baseline"] = args.baseline
            result["old_over_new"] = {
                str(n): round(figures["old"][str(n)]["wall_s"] / figures["new"][str(n)]["wall_s"], 2)
                for n in sizes
            }
            rows.append(("old / new wall, per size", result["old_over_new"]))
        rows.append((f"per-run time {large} runs / {small} runs", result["scaling_ratio"]))
        result["machine"] = {**machine, "load_avg_end": [round(x, 2) for x in os.getloadavg()]}
        print_table("distillscope report over N small RSE runs (through the CLI)", rows)
        emit_json(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
