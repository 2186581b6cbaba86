"""Reading JSON Lines input with errors that name the file and line (exit 2, never a traceback)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from distillscope.errors import UserError


def parse_jsonl_lines(path: Path, lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a line that is not a JSON object is a UserError."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError.at(path, f"invalid JSON ({exc.msg})", line=number) from None
        if not isinstance(obj, dict):
            raise UserError.at(path, "expected a JSON object", line=number)
        yield number, obj


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Every (line number, object) of a JSONL file; a missing, empty or non-UTF-8 file is a UserError."""
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, expected a file")
    try:
        with path.open(encoding="utf-8") as fh:
            rows = list(parse_jsonl_lines(path, fh))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not rows:
        raise UserError(f"{path}: file is empty")
    return rows
