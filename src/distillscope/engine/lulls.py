"""Lulls in a run's network traffic, for the CPU work that can wait for one.

Against a server of fixed latency the answers of a run come back in bursts: a wave of calls
goes out together and comes back together. Judging an answer on the event loop, or compiling a
pattern, in the middle of a burst holds up the answers queued behind it and the calls that
would take their slots, and so every call of the wave is late. The scheduler marks each call it
sends and each answer it gets; work that can wait (the rules judge, warm-ups) waits until no
mark came for `QUIET_S`, or at most `MAX_WAIT_S`, so it fills the gaps between bursts instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable

QUIET_S = 0.0005  # no call sent or answered for this long: a lull (a burst's calls are ~0.2 ms apart)
MAX_WAIT_S = 0.02  # steady traffic with no lull at all: do the work anyway after this long


class Lulls:
    """When the run's traffic last moved, and how to wait for a lull in it."""

    def __init__(self, quiet_s: float = QUIET_S, max_wait_s: float = MAX_WAIT_S) -> None:
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self.last = float("-inf")
        self._moving = asyncio.Event()  # set at the first mark: the run's traffic has begun

    def mark(self) -> None:
        """A call was sent or answered just now."""
        self.last = asyncio.get_running_loop().time()
        if not self._moving.is_set():
            self._moving.set()

    async def wait(self, since: float | None = None) -> None:
        """Return once no call moved for `quiet_s`, or `max_wait_s` after `since` (a loop time:
        when the work began to wait; default now) in any case. It always hands the loop over at
        least once: work that has waited long enough still lets the answers in between its pieces."""
        loop = asyncio.get_running_loop()
        give_up = (loop.time() if since is None else since) + self.max_wait_s
        while True:
            gap = min(self.last + self.quiet_s, give_up) - loop.time()
            await asyncio.sleep(max(gap, 0.0))
            if gap <= 0:
                return

    def run_in_lulls(self, jobs: Iterable[Callable[[], object]]) -> asyncio.Task[None]:
        """Do `jobs` one at a time, each in a lull once the first call has gone out (never ahead of
        it). Cancel the task to drop the ones not yet done: warm-up jobs only do early what the run
        would otherwise do when it first needs it."""
        return asyncio.ensure_future(self._run(jobs))

    async def _run(self, jobs: Iterable[Callable[[], object]]) -> None:
        await self._moving.wait()
        for job in jobs:
            await self.wait()
            job()
            await asyncio.sleep(0)  # hand the loop back between two jobs


async def cancel_quietly(task: asyncio.Task[None] | None) -> None:
    """Stop a `run_in_lulls` task; a job's own error surfaces later, when its work is done for real."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
