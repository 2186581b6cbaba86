"""The progress display: a live bar whose refresh thread a long computation can pause."""

from __future__ import annotations

import io
import threading

from rich.console import Console

from distillscope.engine.progress import Progress


def _refresh_threads() -> int:
    return sum(1 for t in threading.enumerate() if t is not threading.main_thread() and t.daemon)


def test_paused_stops_the_bars_thread_and_draws_it_again_after() -> None:
    screen = io.StringIO()
    before = _refresh_threads()
    with Progress("rich", console=Console(file=screen, force_terminal=True, width=100)) as progress:
        progress.add_total("answers", 3)
        progress.advance("answers")
        assert _refresh_threads() == before + 1  # the live bar's refresh thread
        with progress.paused():
            assert _refresh_threads() == before  # nothing but this computation runs
        assert _refresh_threads() == before + 1
        progress.advance("answers")
    assert "answers" in screen.getvalue() and "2/3" in screen.getvalue()


def test_paused_is_a_no_op_without_a_live_bar() -> None:
    for mode in ("plain", "quiet"):
        progress = Progress(mode, console=Console(file=io.StringIO()))  # type: ignore[arg-type]
        with progress, progress.paused():
            progress.add_total("answers", 1)


def test_a_stage_named_with_markup_and_escapes_is_shown_as_text() -> None:
    """A stage holds a model's name (`rse answers: NAME`): `[/]` in it made rich raise (it is
    rendered as markup in the live bar), and an OSC sequence in it set the terminal's title."""
    name = "answers: ev[/]il[bold]\x1b]0;T\x07"
    for mode in ("rich", "plain"):
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=mode == "rich", width=200)
        with Progress(mode, console=console) as progress:  # type: ignore[arg-type]
            progress.add_total(name, 1)
            progress.advance(name)
            progress.note("model 'ev[/]il\x1b]0;T\x07': waiting")
        shown = screen.getvalue()
        assert "\x1b]0;T" not in shown and "\x07" not in shown, mode
        assert "ev[/]il[bold]\\x1b]0;T\\x07" in shown, (mode, shown)
        assert "model 'ev[/]il\\x1b]0;T\\x07': waiting" in shown, mode
