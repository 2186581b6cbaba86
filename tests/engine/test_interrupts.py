"""`engine.interrupts`: a command's SIGTERM handler must not outlive it in a forked child."""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import sys
import time

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
