"""Progress reporting per stage: a rich bar on a terminal, plain log lines otherwise, or nothing.

A stage's name holds a model's name (`rse answers: NAME`) and a note may quote one: both are
untrusted text, shown with their control characters escaped and never read as rich markup
(`[/]` in a model's name made rich raise mid-run; `\x1b]0;...` set the terminal's title)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from distillscope.textsafe import visible_controls

Mode = Literal["rich", "plain", "quiet"]


@dataclass
class _Stage:
    total: int = 0
    done: int = 0
    cached: int = 0
    failed: int = 0
    started: float = 0.0
    task: TaskID | None = None
    last_log: float = 0.0
    logged_done: int = -1


class Progress:
    """Counts calls done / cached / failed per stage, with throughput and ETA."""

    def __init__(self, mode: Mode, console: Console | None = None, log_every_s: float = 5.0) -> None:
        self.mode = mode
        self.console = console or Console(stderr=True)
        self.log_every_s = log_every_s
        self._stages: dict[str, _Stage] = {}
        self._rich: RichProgress | None = None

    @classmethod
    def silent(cls) -> Progress:
        return cls("quiet")

    @classmethod
    def auto(cls, quiet: bool = False) -> Progress:
        if quiet:
            return cls("quiet")
        return cls("rich" if sys.stderr.isatty() else "plain")

    def __enter__(self) -> Progress:
        if self.mode == "rich":
            self._rich = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(
                    "cached {task.fields[cached]} · failed {task.fields[failed]} · {task.fields[rate]}"
                ),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._rich.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
        if self.mode == "plain":
            for name in self._stages:
                self._log(name, force=True)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No live bar while a long computation that makes no calls runs: the bar's refresh thread
        stops (and the bar is taken off the screen, to be drawn again after), so the process has
        one thread and the computation may fork workers (`rse attribute`'s fits)."""
        rich = self._rich
        if rich is None:
            yield
            return
        refresher = getattr(rich.live, "_refresh_thread", None)  # rich's stop() does not wait for it
        rich.live.transient = True
        rich.stop()
        if isinstance(refresher, threading.Thread):
            refresher.join(timeout=2)
        try:
            yield
        finally:
            rich.live.transient = False
            rich.start()

    def add_total(self, stage: str, n: int) -> None:
        state = self._stage(stage)
        state.total += n
        if self._rich is not None and state.task is not None:
            self._rich.update(state.task, total=state.total)

    def advance(self, stage: str, *, cached: bool = False, failed: bool = False) -> None:
        state = self._stage(stage)
        state.done += 1
        state.cached += cached
        state.failed += failed
        if self._rich is not None and state.task is not None:
            elapsed = max(time.monotonic() - state.started, 1e-9)
            self._rich.update(
                state.task,
                completed=state.done,
                cached=state.cached,
                failed=state.failed,
                rate=f"{state.done / elapsed:.1f}/s",
            )
        elif self.mode == "plain":
            self._log(stage)

    def note(self, message: str) -> None:
        """One line for the user on stderr (not in quiet mode), above any progress bar."""
        if self.mode != "quiet":
            self.console.print(visible_controls(message), highlight=False, markup=False, soft_wrap=True)

    def counts(self, stage: str) -> tuple[int, int, int, int]:
        s = self._stage(stage)
        return s.done, s.total, s.cached, s.failed

    def _stage(self, name: str) -> _Stage:
        state = self._stages.get(name)
        if state is None:
            state = _Stage(started=time.monotonic(), last_log=time.monotonic())
            if self._rich is not None:
                # the description is rendered as markup ("[bold]{task.description}"): escaped
                shown = escape(visible_controls(name))
                state.task = self._rich.add_task(shown, total=0, cached=0, failed=0, rate="")
            self._stages[name] = state
        return state

    def _log(self, name: str, force: bool = False) -> None:
        s = self._stages[name]
        now = time.monotonic()
        if s.logged_done == s.done or (
            not force and now - s.last_log < self.log_every_s and s.done != s.total
        ):
            return
        s.last_log = now
        s.logged_done = s.done
        rate = s.done / max(now - s.started, 1e-9)
        self.console.print(
            f"{visible_controls(name)}: {s.done}/{s.total} done, {s.cached} cached, {s.failed} failed, {rate:.1f}/s",
            highlight=False,
            markup=False,
        )
