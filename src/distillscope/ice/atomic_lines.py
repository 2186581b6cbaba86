"""A JSON Lines file written row by row that appears only when complete.

`engine.run.write_jsonl` holds the whole file in memory before writing it; a rescore of a large log
writes its verdicts while it judges instead. Rows go to a temporary file beside the target, which
replaces the target only when the `with` block ends without an error, so a verdicts file that
exists is never a partial one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from distillscope.errors import UserError


class AtomicJsonlWriter:
    """`with AtomicJsonlWriter(path) as out: out.write(row)`: one JSON object per line, same
    encoding as `write_jsonl` (UTF-8, no ASCII escaping); renamed into place on success."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp: str | None = None
        self._fh: IO[str] | None = None
        self.rows = 0

    def __enter__(self) -> AtomicJsonlWriter:
        try:
            fd, self._tmp = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
            )
            self._fh = os.fdopen(fd, "w", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        return self

    def write(self, row: Any) -> None:
        assert self._fh is not None, "write() outside the with block"
        try:
            self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self.rows += 1

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        fh, tmp = self._fh, self._tmp
        self._fh = self._tmp = None
        if fh is None or tmp is None:
            return
        if kind is not None:  # failed or interrupted: leave no file, keep the old one if any
            fh.close()
            Path(tmp).unlink(missing_ok=True)
            return
        try:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            os.replace(tmp, self.path)
        except OSError as err:
            fh.close()
            Path(tmp).unlink(missing_ok=True)
            raise UserError(f"{self.path}: cannot write: {err.strerror or err}") from None
