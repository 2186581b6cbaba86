"""The `distillscope` command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# Before any pydantic model is built: the command's models use no pydantic plugin, and looking for
# them scans every installed package's entry points (~12 ms a start). Set the variable (even to
# an empty value) to keep pydantic's default.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer

from distillscope import __version__
from distillscope.cli import demo, models
from distillscope.cli.options import fail
from distillscope.errors import UserError

app = typer.Typer(
    name="distillscope",
    help="Measure how far a language model was distilled from another (ICE identity consistency, RSE response similarity).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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


def _register_optional(argv: Sequence[str] | None = None) -> None:
    """Command groups that live in their own modules. Given a command line, only the module of
    the command it runs is imported (`rse` brings numpy, which an `ice run` does without);
    otherwise (help, a typo) all of them, so every command is listed."""
    import importlib

    command = next((a for a in argv or () if not a.startswith("-")), None)
    if command in _BUILTIN:
        return
    modules = {_OPTIONAL[command]} if command in _OPTIONAL else set(_OPTIONAL.values())
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


def main() -> None:
    try:
        _register_optional(sys.argv[1:])
        app()
    except UserError as exc:  # raised outside run_command (e.g. while parsing)
        try:
            fail(str(exc))
        except typer.Exit as done:
            raise SystemExit(done.exit_code) from None
