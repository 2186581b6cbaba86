"""The contrast fits in forked worker processes: the same scores as one process, and Ctrl-C
answered (a worker must not die holding the pool's lock)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from distillscope.rse.attribution import contrasts
from distillscope.rse.attribution.contrasts import fit_contrasts

from .conftest import docs


def test_forked_fits_score_exactly_as_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fold's fits in two forked processes give the very scores of one process (liblinear's random
    generator is seeded by each fit; threads would share it), and none where forking is unsafe."""
    family = [d for m in ("a1", "b1") for d in docs(m, m[0], 12, seed=5, family=m[0])]
    control_docs = {f"independent{i}": docs(f"independent{i}", None, 12, seed=5) for i in range(3)}
    tests = {"copycat": docs("copycat", "a", 12, seed=5)}
    one = fit_contrasts(family, control_docs, tests, workers=1)
    if not contrasts.can_fork():
        pytest.skip(f"this process cannot fork safely ({threading.active_count()} threads)")
    two = fit_contrasts(family, control_docs, tests, workers=2)
    assert (one.processes, two.processes) == (1, 2)
    assert two.by_fit == one.by_fit and two.n_fits == one.n_fits
    monkeypatch.setattr(contrasts, "can_fork", lambda: False)
    assert fit_contrasts(family, control_docs, tests, workers=2).processes == 1


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


# MT-bench's real answers: their folds' scores fill the pool's result pipe, the case where a worker that
# Ctrl-C killed in the middle left the run waiting for ever (a synthetic set this small never did).
FAMILIES = {"openai": ["gpt-3.5-turbo", "gpt-4"], "anthropic": ["claude-v1", "claude-instant-v1"]}
CONTROLS = [
    "dolly-v2-12b",
    "guanaco-33b",
    "guanaco-65b",
    "llama-13b",
    "mpt-30b-instruct",
    "oasst-sft-4-pythia-12b",
]
TESTS = ["vicuna-13b-v1.3", "wizardlm-13b", "koala-13b", "alpaca-13b", "baize-v2-13b", "tulu-30b"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc (Linux)")
@pytest.mark.parametrize("delay", [1.0, 4.0])
def test_ctrl_c_during_forked_fits_stops_the_run_and_its_workers(
    shared_data: Path, tmp_path: Path, delay: float
) -> None:
    """`rse attribute` interrupted while its workers fit (as a terminal's Ctrl-C: the whole process
    group) exits 130 and leaves no worker behind."""
    answers = shared_data / "mt-bench" / "model_answer"
    provenance = json.loads((shared_data / "mt-bench" / "provenance.json").read_text(encoding="utf-8"))
    members = {m for ms in FAMILIES.values() for m in ms}
    others = sorted(p.stem for p in answers.glob("*.jsonl") if p.stem not in members)
    controls = [m for m in others if provenance[m]["trained_on_openai_outputs"] is False]
    args = ["rse", "attribute", "--dataset", f"mt={shared_data / 'mt-bench' / 'question.jsonl'}"]
    args += ["--out", str(tmp_path / "run"), "--quiet"]
    args += [
        x for f, ms in FAMILIES.items() for m in ms for x in ("--family", f"{f}=replay:{answers / m}.jsonl")
    ]
    args += [x for m in others if m not in controls for x in ("--test", f"replay:{answers / m}.jsonl")]
    args += [x for m in controls for x in ("--control", f"replay:{answers / m}.jsonl")]
    child = subprocess.Popen(
        [sys.executable, "-m", "distillscope", *args],
        start_new_session=True,  # its own process group: the Ctrl-C below reaches it and its workers only
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while not workers and child.poll() is None and time.monotonic() < deadline:
            workers = _children(child.pid)
            time.sleep(0.02)
        if not workers:
            pytest.skip("the fits ended before any worker was seen")
        time.sleep(delay)
        workers |= _children(child.pid)
        os.killpg(child.pid, signal.SIGINT)
        assert child.wait(timeout=30) == 130
        time.sleep(0.5)
        assert not [w for w in workers if Path(f"/proc/{w}").exists()], "a worker outlived the run"
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
