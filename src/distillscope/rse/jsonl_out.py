"""A JSONL file written line by line and published atomically.

Rows go to a hidden temporary file beside the target as they are produced (nothing accumulates in
memory); `commit()` fsyncs and renames it into place, so a reader never sees a half-written file,
and leaving the `with` block without committing (an error, a stopped run) removes the temporary.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from distillscope.errors import UserError


class AtomicJsonl:
    """`with AtomicJsonl(path) as out: out.write(row); ...; out.commit()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None

    def __enter__(self) -> AtomicJsonl:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self._tmp = Path(tmp)
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        return self

    def write(self, row: Any) -> None:
        assert self._fh is not None, "AtomicJsonl.write outside its with block"
        try:
            self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self.rows += 1

    def commit(self) -> None:
        """Flush, fsync and rename into place."""
        assert self._fh is not None and self._tmp is not None, "AtomicJsonl.commit outside its with block"
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self._fh = None
        self._tmp = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
