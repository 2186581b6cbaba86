"""`distillscope report` and `distillscope compare`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the report commands to the root app."""
