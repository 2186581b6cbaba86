"""Per-item records of a run directory as pandas DataFrames (pandas is imported only here, on use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distillscope.errors import UserError


def jsonl_frame(path: Path | None, name: str) -> Any:
    """`name` (a JSONL file of the run directory) as a DataFrame, nested objects flattened
    (`aspects.style`, ...)."""
    import pandas as pd

    from distillscope.jsonl import read_jsonl

    if path is None:
        raise UserError(f"this result was not loaded from a run directory, so it has no {name}")
    file = path / name
    if not file.is_file():
        raise UserError(f"{file}: not found (the run directory has no per-item records)")
    return pd.json_normalize([row for _, row in read_jsonl(file)])
