"""Local model: the embedded SmolLM2-135M's generation speed, and the demo's wall time.

1. Tokens per second of `local:smollm2` (llama.cpp through the local backend): a few prompts,
   greedy, --max-tokens each; generated tokens / generation time (model load timed apart).
2. `distillscope demo` in a fresh process with a fresh run directory: wall time end to end
   (interpreter start, model load, every stage the demo has), and which stages wrote results.

    python bench/local_model.py --max-tokens 128
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json, machine_info, print_table

PROMPTS = (
    "Who are you, and which company trained you?",
    "Explain in three sentences how a refrigerator keeps food cold.",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "List five uses of a paperclip, one per line.",
)


async def generation_speed(max_tokens: int, prompts: int) -> dict[str, Any]:
    from distillscope.errors import UserError
    from distillscope.models.spec import build_backend
    from distillscope.models.types import GenerateParams, ModelRequest

    try:
        backend = build_backend("local:smollm2")
    except UserError as exc:
        return {"skipped": str(exc)}
    params = GenerateParams(temperature=0.0, max_tokens=max_tokens, seed=0)
    started = time.perf_counter()
    await backend.generate(backend.prepare(ModelRequest.user("Hi", params=GenerateParams(max_tokens=1))))
    load_s = time.perf_counter() - started
    generated = prompt_tokens = 0
    gen_s = 0.0
    for text in (PROMPTS * (prompts // len(PROMPTS) + 1))[:prompts]:
        began = time.perf_counter()
        response = await backend.generate(backend.prepare(ModelRequest.user(text, params=params)))
        gen_s += time.perf_counter() - began
        generated += response.usage.completion_tokens
        prompt_tokens += response.usage.prompt_tokens
    await backend.aclose()
    return {
        "load_and_first_call_s": round(load_s, 3),
        "prompts": prompts,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": generated,
        "generation_s": round(gen_s, 3),
        "tokens_per_second": round(generated / max(gen_s, 1e-9), 1),
        "seconds_per_answer": round(gen_s / prompts, 3),
    }


def demo_wall_time() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ds-bench-") as tmp:
        out = Path(tmp) / "demo"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "distillscope", "demo", "--out", str(out), "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) if out.exists() else []
    if proc.returncode != 0:
        return {
            "exit_code": proc.returncode,
            "wall_s": round(wall, 2),
            "error": (proc.stderr or proc.stdout)[-800:],
        }
    stages = sorted({name.split("/")[0] for name in files if "/" in name})
    return {
        "exit_code": 0,
        "wall_s": round(wall, 2),
        "stage_dirs": stages,
        "has_ice_stage": any("ice" in name.lower() for name in files),
        "has_rse_stage": any("rse" in name.lower() for name in files),
        "files": files[:40],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-tokens", type=int, default=128, help="tokens to generate per prompt")
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--no-demo", action="store_true", help="skip timing `distillscope demo`")
    args = parser.parse_args(argv)
    if args.max_tokens < 1 or args.prompts < 1:
        parser.error("--max-tokens and --prompts must be at least 1")

    machine = machine_info()
    speed = asyncio.run(generation_speed(args.max_tokens, args.prompts))
    demo: dict[str, Any] = {"skipped": "--no-demo"} if args.no_demo else demo_wall_time()
    figures = {
        "tokens_per_second": speed.get("tokens_per_second"),
        "seconds_per_answer": speed.get("seconds_per_answer"),
        "demo_seconds": demo.get("wall_s") if demo.get("exit_code") == 0 else None,
        "demo_has_ice_stage": demo.get("has_ice_stage"),
        "generation": speed,
        "demo": demo,
        "cores": machine["cores"],
        "cpu_model": machine["cpu_model"],
        "load_avg": machine["load_avg"],
    }

    def show(part: dict[str, Any], key: str) -> Any:
        if "skipped" in part:
            return f"skipped: {part['skipped']}"
        if part.get("exit_code"):
            return f"failed (exit {part['exit_code']})"
        return part.get(key)

    print_table(
        "local model: embedded SmolLM2-135M (llama.cpp)",
        [
            ("generated tokens/s", show(speed, "tokens_per_second")),
            ("seconds per answer", show(speed, "seconds_per_answer")),
            ("model load + first call, s", show(speed, "load_and_first_call_s")),
            ("`distillscope demo` wall s (new process)", show(demo, "wall_s")),
            ("demo stages with results", show(demo, "stage_dirs")),
            ("demo has an ICE stage", show(demo, "has_ice_stage")),
            ("machine", f"{machine['cores']} cores, {machine['cpu_model']}, load {machine['load_avg']}"),
        ],
    )
    emit_json(figures)


if __name__ == "__main__":
    main()
