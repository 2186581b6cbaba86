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

# In a fresh interpreter: this one may run helper threads (a test server), and then it must not fork.
_SAME_SCORES = """
import random
from distillscope.rse.attribution.contrasts import fit_contrasts
from distillscope.rse.attribution.crossfit import Doc
words = [f"w{i}" for i in range(400)]
def writer(model, family=None, n=12):
    rng = random.Random(model)
    return [Doc(model, f"p{i}", f"p{i}", " ".join(rng.choices(words, k=80)), family) for i in range(n)]
family = writer("a1", "a") + writer("b1", "b")
controls = {f"c{i}": writer(f"c{i}") for i in range(3)}
tests = {"x": writer("x")}
one = fit_contrasts(family, controls, tests, workers=1)
two = fit_contrasts(family, controls, tests, workers=2)
assert (one.processes, two.processes) == (1, 2), (one.processes, two.processes)
assert two.by_fit == one.by_fit and two.n_fits == one.n_fits == 5 * 2 * (3 + 3)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_forked_fits_score_exactly_as_one_process() -> None:
    """A fold's fits in two forked processes give the very scores of one process (liblinear's random
    generator is seeded by each fit; threads would share it)."""
    done = subprocess.run([sys.executable, "-c", _SAME_SCORES], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_no_fork_where_it_is_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    """With another thread running (or off Linux) the fits stay in this process."""
    monkeypatch.setattr(contrasts, "can_fork", lambda: False)
    family = [d for m in ("a1", "b1") for d in docs(m, m[0], 12, seed=5, family=m[0])]
    control_docs = {f"independent{i}": docs(f"independent{i}", None, 12, seed=5) for i in range(3)}
    found = fit_contrasts(family, control_docs, {"copycat": docs("copycat", "a", 12, seed=5)}, workers=2)
    assert found.processes == 1 and found.n_fits == 5 * 2 * (3 + 3)
    blocker = threading.Event()
    helper = threading.Thread(target=blocker.wait)
    helper.start()
    try:
        monkeypatch.undo()
        assert not contrasts.can_fork()  # two threads now
    finally:
        blocker.set()
        helper.join()


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
