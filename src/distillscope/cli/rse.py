"""`distillscope rse ...`: Response Similarity Evaluation."""

from __future__ import annotations

import typer

app = typer.Typer(help="Response Similarity Evaluation: how closely do a model's answers track a reference's?", no_args_is_help=True)
