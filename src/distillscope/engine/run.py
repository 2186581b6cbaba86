"""A run directory and everything a command needs to call models in it.

DIR/config.json   the full resolved settings (no secrets: only names of key variables)
DIR/ledger.sqlite every model call (or the shared ledger given with --cache)
DIR/run.log       what happened, for humans
DIR/results.json  written last and atomically: it exists only for a finished run
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillscope import __version__
from distillscope.engine.ledger import Ledger
from distillscope.engine.progress import Progress
from distillscope.engine.scheduler import Budget, Scheduler
from distillscope.errors import UserError
from distillscope.jsonl import publish_mode
from distillscope.models.base import Backend
from distillscope.models.spec import ModelCatalog, build_backend
from distillscope.redact import RedactingFilter, redact_data

log = logging.getLogger("distillscope")


def default_out(command: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{command}-{stamp}"


def prepare_out_dir(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory (--out)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out}: cannot create output directory: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"{out}: output directory is not writable")
    return out


def write_atomic(path: Path, text: str) -> None:
    """Write then rename, so a reader never sees a half-written file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        publish_mode(fd)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_json(path: Path, data: Any, *, redact: bool = True) -> None:
    """Settings and results as JSON; `redact` (the default) hides secrets in URLs and headers."""
    payload = redact_data(data) if redact else data
    write_atomic(path, json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))


@dataclass
class RunOptions:
    """Options every model-calling command shares."""

    command: str
    out: Path | None = None
    cache: Path | None = None
    config: Path | None = None
    concurrency: int | None = None
    max_calls: int | None = None
    max_tokens: int | None = None
    quiet: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """A budget of 0 is refused as bad input: a run that may not call anything is a typo."""
        flags = {
            "concurrency": "--concurrency",
            "max_calls": "--max-calls",
            "max_tokens": "--max-tokens-total",
        }
        for name, flag in flags.items():
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"{flag} must be at least 1, got {value}")


class RunContext(AbstractAsyncContextManager["RunContext"]):
    """Opens the run directory, ledger, progress and scheduler; closes them all on exit."""

    def __init__(self, options: RunOptions) -> None:
        options.validate()
        self.options = options
        self.out = prepare_out_dir(options.out or default_out(options.command))
        self.catalog = ModelCatalog.load(options.config)
        ledger_path = options.cache or self.out / "ledger.sqlite"
        self._new_ledger = not ledger_path.exists()
        self.ledger = Ledger(ledger_path)
        self.progress = Progress.auto(options.quiet)
        self.scheduler = Scheduler(
            self.ledger,
            concurrency=options.concurrency,
            budget=Budget(options.max_calls, options.max_tokens),
            progress=self.progress,
        )
        self.backends: dict[str, Backend] = {}
        self.started_at = dt.datetime.now(dt.UTC)
        self._log_handler = self._open_log()

    def model(self, spec: str, **overrides: Any) -> Backend:
        """The backend for a spec; one instance per (spec, overrides) so lanes are shared."""
        key = spec + json.dumps(
            {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in overrides.items()},
            sort_keys=True,
            default=str,
        )
        if key not in self.backends:
            self.backends[key] = build_backend(
                spec, self.catalog, concurrency=self.options.concurrency, **overrides
            )
        return self.backends[key]

    def write_config(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """config.json: the resolved settings of this run (secrets never appear here)."""
        data = {
            "command": self.options.command,
            "tool_version": __version__,
            "started_at": self.started_at.isoformat(),
            "ledger": str(self.ledger.path),
            "concurrency": self.options.concurrency,
            "budget": {"max_calls": self.options.max_calls, "max_tokens": self.options.max_tokens},
            "models": {b.name: b.config.public_dict() for b in self.backends.values()},
            **self.options.settings,
            **(extra or {}),
        }
        write_json(self.out / "config.json", data)
        return data

    def run_summary(self) -> dict[str, Any]:
        """Costs and counts for results.json."""
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "tool_version": __version__,
            "totals": self.scheduler.totals(),
            "per_model": self.scheduler.stats(),
        }

    def _drop_unused_ledger(self) -> None:
        """A run refused before its first call (a bad spec, port or header) leaves no ledger."""
        path = self.ledger.path
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
            finally:
                db.close()
        except Exception:  # unreadable: leave it for the user to see
            return
        if rows == 0:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def _open_log(self) -> logging.Handler:
        handler = logging.FileHandler(self.out / "run.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler.addFilter(RedactingFilter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        return handler

    async def __aenter__(self) -> RunContext:
        self.progress.__enter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)
        for backend in self.backends.values():
            await backend.aclose()
        self.ledger.close()
        if isinstance(exc[1], UserError) and self._new_ledger:
            self._drop_unused_ledger()
        log.removeHandler(self._log_handler)
        self._log_handler.close()
