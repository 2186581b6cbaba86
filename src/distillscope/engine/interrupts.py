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
resume and the ledger's last group of answers left to its journal. It does so also where SIGINT is
ignored (a script's background job, `distillscope ... &`, where asyncio installs no handler).

The watchdog delivers a real signal to the main thread (`signal.pthread_kill`), not
`_thread.interrupt_main`: a flag set for the interpreter does not end a system call the main thread
is blocked in (opening a FIFO given as a file, a read from a stalled pipe or network disk), so such
a command went on after Ctrl-C or SIGTERM until that call returned, if ever.
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
    except asyncio.CancelledError:  # the main task cancelled by our own SIGTERM handler (SIGINT ignored)
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
        self._sigint_wrapped = False  # SIGINT's handler is ours (restored at stop)
        self._sigterm: Any = None  # the SIGTERM handler before ours, restored at stop
        self._main_thread = threading.main_thread().ident
        self.terminated = False  # the stop came from SIGTERM

    def wrap_asyncio_handler(self) -> None:
        """Put a handler around asyncio's SIGINT handler (installed by `asyncio.run` on the main
        thread), and one for SIGTERM. Where SIGINT is ignored asyncio installs none, and SIGTERM
        gets a handler that stops the command as asyncio's would (`_stopper`)."""
        if threading.current_thread() is not threading.main_thread():
            return
        inner = signal.getsignal(signal.SIGINT)
        self._sigint_wrapped = callable(inner)
        if not callable(inner):
            inner = _stopper(asyncio.current_task(), asyncio.get_running_loop())

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

        if self._sigint_wrapped:
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
        # the stop's signal again, whose handler raises KeyboardInterrupt at a second one; a real
        # signal, which also ends a system call the main thread is blocked in (see the module doc)
        signum = signal.SIGTERM if self.terminated else signal.SIGINT
        if hasattr(signal, "pthread_kill") and self._main_thread is not None:
            signal.pthread_kill(self._main_thread, signum)
        else:
            _thread.interrupt_main(signum)
        self._timer = threading.Timer(INTERRUPT_GRACE_S, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._installed and threading.current_thread() is threading.main_thread():
            if self._sigint_wrapped:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, self._sigterm if self._sigterm is not None else signal.SIG_DFL)


def _stopper(task: asyncio.Task[Any] | None, loop: asyncio.AbstractEventLoop) -> Callable[[int, Any], None]:
    """What asyncio's SIGINT handler does, for SIGTERM where SIGINT is ignored: the first signal
    cancels the main task (the clean stop), a later one raises KeyboardInterrupt where it lands."""
    count = 0

    def stop(signum: int, frame: Any) -> None:
        nonlocal count
        count += 1
        if count == 1 and task is not None and not task.done():
            task.cancel()
            loop.call_soon_threadsafe(lambda: None)  # wake the loop to act on it
            return
        raise KeyboardInterrupt

    return stop
