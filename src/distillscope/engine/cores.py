"""The CPUs this process may use, and how worker processes leave Ctrl-C to their parent."""

from __future__ import annotations

import os
import signal


def usable_cores() -> int:
    """The CPUs this process may run on: its affinity where the OS tells it (a container or `taskset`
    may allow fewer than the machine has), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def ignore_sigint() -> None:
    """A worker process's start: Ctrl-C is the parent's to answer (it stops its workers). A worker that
    Ctrl-C reached could die holding its pool's queue lock, and the parent would wait for it for ever.
    SIGTERM gets its default back: a pool stops its workers with it, and a forked worker inherits the
    parent's SIGTERM handler (`engine.interrupts`), which would not let it die."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
