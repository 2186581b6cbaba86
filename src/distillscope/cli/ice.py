"""`distillscope ice ...`: Identity Consistency Evaluation."""

from __future__ import annotations

import typer

app = typer.Typer(help="Identity Consistency Evaluation: does the model claim someone else's identity?", no_args_is_help=True)
