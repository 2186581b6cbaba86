"""`engine.interrupts`: a command's SIGTERM handler must not outlive it in a forked child."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distillscope.engine.interrupts import run_interruptibly


def _sleep_forever(_: int) -> None:
    time.sleep(60)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the Linux start method")
def test_a_process_forked_inside_a_command_can_still_be_terminated() -> None:
    """A process forked while a command ran inherited its SIGTERM handler (stop as Ctrl-C does), so
    `Pool.terminate` (SIGTERM to each worker) left the workers alive and the command waited on them
    for ever: `rse attribute` hung after its contrast fits. A forked child now dies by SIGTERM."""

    async def command() -> list[int]:
        context = multiprocessing.get_context("fork")
        workers = []
        for _ in range(2):
            worker = context.Process(target=_sleep_forever, args=(0,))
            worker.start()
            workers.append(worker)
        await asyncio.sleep(0.3)
        for worker in workers:
            worker.terminate()  # SIGTERM, as Pool.terminate sends it
        deadline = time.monotonic() + 10
        while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        alive = [w for w in workers if w.is_alive()]
        for worker in alive:  # the test must not hang the suite: SIGKILL what SIGTERM left
            worker.kill()
        for worker in workers:
            worker.join()
        return [w.pid or 0 for w in alive]

    assert run_interruptibly(command) == []  # no worker outlived its SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the command's handler is gone again


BLOCKED_IN_A_SYSTEM_CALL = """
import asyncio, os, sys
from distillscope.engine.interrupts import Terminated, run_interruptibly

async def command() -> None:
    print("ready", flush=True)
    open(sys.argv[1], "rb")  # a FIFO no one writes: open() blocks in the kernel, the event loop with it

try:
    run_interruptibly(command)
except Terminated:
    print("terminated", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
@pytest.mark.parametrize(
    ("stop", "said"),
    [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_one_signal_stops_a_command_blocked_in_a_system_call(
    tmp_path: Path, stop: signal.Signals, said: str
) -> None:
    """The watchdog re-delivered the stop with `_thread.interrupt_main`, which sets a flag the
    interpreter checks between bytecodes: a main thread blocked in a system call (opening a FIFO
    given as `--judge-weights`) never got there, and the command ran on until a second Ctrl-C, or
    for ever after SIGTERM. A real signal ends the call."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-c", BLOCKED_IN_A_SYSTEM_CALL, str(fifo)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.3)  # into open()
        started = time.monotonic()
        proc.send_signal(stop)
        out, _ = proc.communicate(timeout=10)
        assert out.strip() == said and time.monotonic() - started < 4
    finally:
        proc.kill()
        proc.wait()
