"""The CPUs a process may use: its affinity, not the machine's count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from distillscope.engine.cores import usable_cores


def test_usable_cores_is_within_the_machine() -> None:
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_a_process_pinned_to_one_cpu_may_use_one() -> None:
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from distillscope.engine.cores import usable_cores; print(usable_cores())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "1"
