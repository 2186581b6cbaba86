"""JSON Lines: writing large outputs row by row so that a file that exists is never a partial one.
Reading goes through `distillscope.records` (the two readers here are its JSONL shape)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from distillscope.errors import UserError


def parse_jsonl_lines(path: Path, lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line (the rules of `records.iter_records`)."""
    from distillscope.records import _jsonl_record

    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, _jsonl_record(path, number, line.removeprefix("\ufeff"), None).data


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Every (line number, object) of a JSONL file (read by `records.read_records`: a JSON array
    is read as its items, a BOM is accepted); a missing or empty file is a UserError."""
    from distillscope.records import read_records

    return [(r.line if r.line is not None else r.index + 1, r.data) for r in read_records(path)]


def publish_mode(fd: int) -> None:
    """Give a temporary file the mode a normal `open()` would (0666 less the umask): mkstemp's 0600
    would make results unreadable to the rest of a team sharing a machine."""
    mask = os.umask(0)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)


class AtomicJsonlWriter:
    """A JSONL file written row by row that appears only when complete.

    `with AtomicJsonlWriter(path) as out: out.write(row)`: rows stream to a hidden temporary file
    beside `path` (nothing accumulates in memory), which is fsynced and renamed into place when the
    block ends without an error (or at an explicit `commit()`). An error or a stopped run removes
    the temporary and leaves any earlier file untouched, so a file that exists is never partial.
    Encoding as `engine.run.write_jsonl`: UTF-8, no ASCII escaping.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None

    def __enter__(self) -> AtomicJsonlWriter:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            publish_mode(fd)
            self._fh = os.fdopen(fd, "w", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self._tmp = Path(tmp)
        return self

    def write(self, row: Any) -> None:
        if self._fh is None:
            raise RuntimeError("AtomicJsonlWriter.write outside its with block")
        try:
            self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self.rows += 1

    def commit(self) -> None:
        """Flush, fsync and rename into place (done by a clean exit from the block, too)."""
        fh, tmp = self._fh, self._tmp
        if fh is None or tmp is None:
            return
        self._fh = self._tmp = None
        try:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            os.replace(tmp, self.path)
        except OSError as exc:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise UserError(f"{self.path}: cannot write: {exc.strerror or exc}") from None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
            return
        if self._fh is not None:
            self._fh.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._fh = self._tmp = None
