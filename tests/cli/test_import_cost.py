"""Start-up cost: the heavy libraries are imported only where used. `import distillscope.cli` and a
whole one-query `ice run` (report included) load none of them, so studies of many small runs and
the Python API do not pay for them. Timings live in bench/ (bench/ice_throughput.py, fixed cost)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from distillscope.testing.server import OpenAIServer

HEAVY = ("pandas", "scipy", "matplotlib", "sentence_transformers", "llama_cpp", "torch")
ICE_RUN_HEAVY = (*HEAVY, "numpy")  # an ICE run's Wilson intervals and SVG bars need no numpy either


def loaded_after(code: str, heavy: tuple[str, ...]) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded_after("import distillscope.cli", HEAVY) == []


def test_the_ice_command_group_loads_no_heavy_library() -> None:
    code = (
        "import distillscope.cli as c\nc._register_optional(['ice', 'run'])\nimport distillscope.report.html"
    )
    assert loaded_after(code, ICE_RUN_HEAVY) == []


def test_a_one_query_ice_run_with_its_report_loads_no_heavy_library(
    tmp_path: Path, openai_server: Callable[..., OpenAIServer]
) -> None:
    server = openai_server(lambda body: "I am GLM, developed by Zhipu AI.")
    out = tmp_path / "run"
    argv = ["distillscope", "ice", "run", "--target", f"openai-compatible:glm-4-plus@{server.url}",
            "--budget", "1", "--out", str(out), "--quiet"]  # fmt: skip
    code = (
        "import sys\nimport distillscope.cli as c\n"
        f"sys.argv = {argv!r}\n"
        "status = c.run(sys.argv[1:])\nassert status == 0, status"
    )
    assert loaded_after(code, ICE_RUN_HEAVY) == []
    assert server.requests == 2  # one mutation, one probe
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "ICE identity contradiction by target" in html  # the figure is there


def test_the_report_warm_up_loads_the_report_and_no_heavy_library() -> None:
    """An `ice run` imports the report and loads its template in the lulls of its traffic."""
    code = (
        "import sys\nfrom distillscope.cli.options import REPORT_MODULES, report_warm_jobs\n"
        "for job in report_warm_jobs():\n    job()\n"
        "assert all(name in sys.modules for name in REPORT_MODULES)"
    )
    assert loaded_after(code, ICE_RUN_HEAVY) == []
