"""Ctrl-C answered within `INTERRUPT_GRACE_S` however busy the event loop is.

asyncio's own SIGINT handler only cancels the main task at the first Ctrl-C, which the loop cannot
do while a synchronous step holds it (a long file read, a slow regex, judging a huge answer): a
run went on for minutes, and stopped only at a second Ctrl-C. `run_interruptibly` is
`asyncio.run` with a watchdog: the first Ctrl-C still cancels the main task (the clean stop), and
if the command has not ended when the grace time is up the Ctrl-C is delivered again, which
raises KeyboardInterrupt wherever the main thread is (and again every grace period, should the
clean-up itself hang). Finished calls are in the ledger either way. The CLI's commands and the
Python API's synchronous functions both run through it.

SIGTERM (what `kill`, `docker stop`, `timeout` and job schedulers send) stops a command the same
way, raising `Terminated` (a KeyboardInterrupt): the process used to die at once, with no word of how to
resume and the ledger's last group of answers left to its journal.
"""

from __future__ import annotations

import _thread
import asyncio
import os
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# After a Ctrl-C, how long the command may take to stop by itself (cancelling its calls, closing
# its ledger) before it is interrupted where it stands.
INTERRUPT_GRACE_S = 1.5


class Terminated(KeyboardInterrupt):
    """The command was stopped by SIGTERM, as a Ctrl-C stops it (exit status 143, not 130)."""


def run_interruptibly(fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run(fn())`, and a Ctrl-C or SIGTERM answered within `INTERRUPT_GRACE_S` (see the
    module doc)."""
    watchdog = _Watchdog()

    async def guarded() -> T:
        watchdog.wrap_asyncio_handler()
        return await fn()

    try:
        return asyncio.run(guarded())
    except KeyboardInterrupt:
        if watchdog.terminated:
            raise Terminated from None
        raise
    finally:
        watchdog.stop()


class _Watchdog:
    def __init__(self) -> None:
        self._timer: threading.Timer | None = None
        self._stopped = threading.Event()
        self._installed = False
        self._sigterm: Any = None  # the SIGTERM handler before ours, restored at stop
        self.terminated = False  # the stop came from SIGTERM

    def wrap_asyncio_handler(self) -> None:
        """Put a handler around asyncio's SIGINT handler (installed by `asyncio.run` on the main thread)."""
        inner = signal.getsignal(signal.SIGINT)
        if not callable(inner) or threading.current_thread() is not threading.main_thread():
            return

        def on_sigint(signum: int, frame: Any) -> None:
            self._arm()
            inner(signum, frame)

        owner = os.getpid()

        def on_sigterm(signum: int, frame: Any) -> None:
            if os.getpid() != owner:  # a forked child (a pool's worker): SIGTERM ends it, as by default
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            self.terminated = True
            on_sigint(signal.SIGINT, frame)

        signal.signal(signal.SIGINT, on_sigint)
        self._sigterm = signal.signal(signal.SIGTERM, on_sigterm)
        self._installed = True

    def _arm(self) -> None:
        if self._timer is None and not self._stopped.is_set():
            self._timer = threading.Timer(INTERRUPT_GRACE_S, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        if self._stopped.is_set():
            return
        _thread.interrupt_main(signal.SIGINT)  # asyncio's handler raises KeyboardInterrupt at a second one
        self._timer = threading.Timer(INTERRUPT_GRACE_S, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._installed and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, self._sigterm if self._sigterm is not None else signal.SIG_DFL)
