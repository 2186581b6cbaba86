"""The `distillscope` command line."""

from __future__ import annotations

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


def _register_optional() -> None:
    """Command groups that live in their own modules."""
    import importlib

    for module_name, group in (("ice", "ice"), ("rse", "rse")):
        module = importlib.import_module(f"distillscope.cli.{module_name}")
        app.add_typer(module.app, name=group)
    report = importlib.import_module("distillscope.cli.report")
    report.register(app)
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
        _register_optional()
        app()
    except UserError as exc:  # raised outside run_command (e.g. while parsing)
        try:
            fail(str(exc))
        except typer.Exit as done:
            raise SystemExit(done.exit_code) from None
