"""JSON Lines: reading input with errors that name the file and line (exit 2, never a traceback),
and writing large outputs row by row so that a file that exists is never a partial one."""

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
