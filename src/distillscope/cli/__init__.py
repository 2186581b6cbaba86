"""The `distillscope` command line."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

# Before any pydantic model is built: the command's models use no pydantic plugin, and looking for
# them scans every installed package's entry points (~12 ms a start). Set the variable (even to
# an empty value) to keep pydantic's default.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# The imports make ~60,000 objects that live as long as the process; the collector would walk them
# again and again on the way (see `run`).
_collecting = gc.isenabled()
gc.disable()
try:
    import typer

    from distillscope import __version__
    from distillscope.cli import demo, models
    from distillscope.cli.helptext import ReflowGroup
    from distillscope.cli.options import BadNumber, fail
    from distillscope.errors import UserError
finally:
    if _collecting:
        gc.enable()

app = typer.Typer(
    name="distillscope",
    help="Measure how far a language model was distilled from another (ICE identity consistency, RSE response similarity).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=ReflowGroup,  # help text as paragraphs, whatever the docstrings' line breaks
)
app.add_typer(models.app, name="models")
app.command("demo")(demo.demo)


_OPTIONAL = {
    "ice": "ice",
    "rse": "rse",
    "report": "report",
    "compare": "report",
    "study": "study",
}  # command -> module
_BUILTIN = {"models", "demo"}
_registered: set[str] = set()  # the optional modules whose commands are on `app`


def _register_optional(argv: Sequence[str] | None = None) -> None:
    """Command groups that live in their own modules. Given a command line, only the module of
    the command it runs is imported (`rse` brings numpy, which an `ice run` does without);
    otherwise (help, a typo) all of them, so every command is listed."""
    import importlib

    command = next((a for a in argv or () if not a.startswith("-")), None)
    if command in _BUILTIN:
        return
    modules = {_OPTIONAL[command]} if command in _OPTIONAL else set(_OPTIONAL.values())
    # Once each: typer rebuilds the whole command tree on every call, so a group added twice (a
    # second `run` in one process: the Python API, a notebook, the tests) made each later command
    # slower to start, without end (1,000 commands in: 1 s a start).
    modules -= _registered
    _registered.update(modules)
    for name in ("ice", "rse"):
        if name in modules:
            module = importlib.import_module(f"distillscope.cli.{name}")
            app.add_typer(module.app, name=name)
    if "report" in modules:
        importlib.import_module("distillscope.cli.report").register(app)
    if "study" in modules:
        app.command("study")(importlib.import_module("distillscope.cli.study").study)


def _version(value: bool) -> None:
    if value:
        print(f"distillscope {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """distillscope: identity consistency (ICE) and response similarity (RSE) of language models."""


def main() -> NoReturn:
    """The console script: one command (`run`), then exit without the interpreter's teardown:
    `os._exit` once output and logs are flushed. Tearing down ~1,000 modules took ~70 ms a command,
    and the commands close their own files, ledgers and worker processes before they return."""
    _leave(run(sys.argv[1:]))


def run(argv: Sequence[str]) -> int:
    """One command in this process; returns its exit status.

    The command's modules are imported with the collector paused and then frozen (`gc.freeze`: they
    live as long as the process, so later collections skip them). With `main`'s exit, about a
    quarter of a one-query `ice run` (bench/README.md)."""
    gc.disable()
    try:
        _register_optional(argv)
    finally:
        gc.freeze()
        gc.enable()
    try:
        try:
            _check_arguments(argv)
            app(args=list(argv))
        except UserError as exc:  # raised outside run_command (e.g. while parsing)
            try:
                fail(exc.with_flag(list(argv)) if isinstance(exc, BadNumber) else str(exc))
            except typer.Exit as done:
                raise SystemExit(done.exit_code) from None
    except SystemExit as done:
        return _status(done.code)
    except KeyboardInterrupt:  # Ctrl-C in a command that runs no event loop (report, compare, ...)
        print("interrupted.", file=sys.stderr)
        return 130
    return 0


def _check_arguments(argv: Sequence[str]) -> None:
    """Refuse an argument that is not valid text: bytes the locale could not decode reach Python
    as lone surrogates, which no file, ledger or terminal can take (a `--out` path, a
    `--system-prompt`). Checked once here, for every command."""
    from distillscope.textsafe import has_surrogates, safe_text

    for position, arg in enumerate(argv, start=1):
        if has_surrogates(arg):
            option = argv[position - 2] if position > 1 and argv[position - 2].startswith("-") else None
            named = f"{option} " if option else ""
            raise UserError(
                f"argument {position} ({named}{safe_text(arg)!r}) is not valid UTF-8 text; "
                "give it in UTF-8 (non-UTF-8 bytes are shown as U+FFFD)"
            )


def _status(code: object) -> int:
    """SystemExit's code as an exit status: None is 0, a message is printed and is 1."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0 if code is None else 1


def _leave(status: int) -> NoReturn:
    """Flush what the command wrote, then end the process with `status`."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe: nothing more to say
            stream.flush()
    os._exit(status)
