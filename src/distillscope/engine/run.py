"""A run directory and everything a command needs to call models in it.

DIR/config.json   the full resolved settings (no secrets: only names of key variables), the
                  command and `settings_fingerprint`, a hash of the settings that determine results
DIR/ledger.sqlite every model call (or the shared ledger given with --cache)
DIR/run.log       what happened, for humans
DIR/results.json  written last and atomically: it exists only for a finished run
DIR/.lock         held (an OS file lock) while a command runs in DIR

A directory belongs to one command and one set of settings: reusing it for another command or
other settings is a `UserError`, unless `--force` (`RunOptions.force`), which starts it afresh
and keeps its ledger as a cache. A second command into a directory in use is refused. When a run
starts, the results and reports of the last run are removed: they come back, atomically, only
when this run finishes, so `results.json` always matches `config.json`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import hashlib
import json
import logging
import os
import sqlite3
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillscope import __version__
from distillscope.engine.ledger import Ledger
from distillscope.engine.lulls import cancel_quietly
from distillscope.engine.progress import Progress
from distillscope.engine.scheduler import Budget, Scheduler
from distillscope.errors import UserError, clip
from distillscope.jsonl import publish_mode
from distillscope.jsonsafe import json_kind
from distillscope.models.base import Backend
from distillscope.models.spec import (
    ModelCatalog,
    build_backend,
    check_one_ledger,
    ledger_identity,
    ledger_twin_message,
)
from distillscope.naming import Naming, flag
from distillscope.records import load_json, yaml_error
from distillscope.redact import RedactingFilter, redact_data
from distillscope.textsafe import visible_controls

log = logging.getLogger("distillscope")


class _Forward(logging.Handler):
    """Propagation as the caller's logging had it: a record at or above the level the library's
    logger had before the run (the handler's level) goes to the handlers of the loggers above it."""

    def emit(self, record: logging.LogRecord) -> None:
        parent = log.parent
        while parent is not None:
            for handler in parent.handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)
            if not parent.propagate:
                break
            parent = parent.parent


class _RunLogGate:
    """The library's logger lowered to INFO while runs are open, for their run.log, and put back as
    it was when the last one closes. It was set to INFO for good at the first run: in a script with
    `logging.basicConfig()` (the root at WARNING) every INFO line of that run and of every later one
    (`wrote runs/x/report.html ...`) was printed on the caller's console, with `quiet=True`. While
    lowered, the logger does not propagate; `_Forward` passes on only what would have passed before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._saved = (logging.NOTSET, True)
        self._forward: _Forward | None = None

    def open(self) -> None:
        with self._lock:
            if self._open == 0:
                self._saved = (log.level, log.propagate)
                before = log.getEffectiveLevel()
                if log.propagate:
                    self._forward = _Forward(before)
                    log.addHandler(self._forward)
                    log.propagate = False
                log.setLevel(min(logging.INFO, before))
            self._open += 1

    def close(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0:
                if self._forward is not None:
                    log.removeHandler(self._forward)
                    self._forward = None
                log.setLevel(self._saved[0])
                log.propagate = self._saved[1]


_RUN_LOG_GATE = _RunLogGate()

# The run directory of the run the current task (or thread started in it) belongs to: each run's
# run.log takes only its own run's records, so runs awaited side by side in one process
# (`asyncio.gather(ds.ice.run_async(...), ds.rse.run_async(...))`) do not write into each other's log.
# A record logged where no run is set (a worker thread started without the context) goes to every log.
_CURRENT_RUN: contextvars.ContextVar[Path | None] = contextvars.ContextVar("distillscope_run", default=None)


def default_out(command: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{command}-{stamp}"


def missing_dirs(out: Path) -> list[Path]:
    """The directories that `prepare_out_dir(out)` will create, deepest first."""
    made: list[Path] = []
    while not out.exists() and not out.is_symlink() and out != out.parent:
        made.append(out)
        out = out.parent
    return made


# What a run refused before it wrote anything else leaves in its directory: the lock and the log
_REFUSAL_LEFTOVERS = frozenset({".lock", "run.log"})
# Times a run takes its lock again when the .lock it locked was removed meanwhile (by a refused run)
_LOCK_TRIES = 5


def entry_names(directory: Path) -> frozenset[str]:
    """The names in `directory` (none when it cannot be listed): what a run found there."""
    try:
        return frozenset(entry.name for entry in directory.iterdir())
    except OSError:
        return frozenset()


def remove_refusal_leftovers(directory: Path, found: frozenset[str]) -> None:
    """In a directory that was there before a refused run, remove the lock and log the run
    created (names not in `found`, what the directory held when the run began), so a typo in a
    spec leaves the directory as it was. A run.log or .lock that was there (an earlier run's log)
    and every other file are kept; when the run created anything else, nothing is removed. Called
    while the run still holds its lock: a run that opened the same .lock meanwhile finds it
    unlinked once it gets the lock, and opens a new one (`DirectoryLock`)."""
    created = entry_names(directory) - found
    if not created or not created <= _REFUSAL_LEFTOVERS:
        return
    for name in sorted(created):
        with contextlib.suppress(OSError):
            (directory / name).unlink()


def release_directory(
    lock: DirectoryLock, directory: Path, made: list[Path], found: frozenset[str], *, refused: bool
) -> None:
    """Give up a command's directory lock. A refused command first takes back what it put there
    before it wrote anything else: the directories it made (`made`, `missing_dirs`), or in a
    directory that was there (holding `found`), the lock and the log it created (while it holds
    the lock: see `remove_refusal_leftovers`)."""
    if refused and not made:
        remove_refusal_leftovers(directory, found)
    lock.close()
    if refused:
        remove_made_dirs(made)


def remove_made_dirs(made: list[Path]) -> None:
    """Remove the directories a refused run made (deepest first), with the lock and log it put
    there, so a typo in a spec leaves no empty run directory behind. A directory holding anything
    else (a ledger with calls in it, config.json, a user's file) is left as it is."""
    for directory in made:
        try:
            names = {entry.name for entry in directory.iterdir()}
            if not names <= _REFUSAL_LEFTOVERS:
                return
            for name in sorted(names):  # ".lock" first: a run that opens it now finds no directory
                (directory / name).unlink()
            directory.rmdir()
        except OSError:
            return


def _read_only_folder(out: Path) -> Path | None:
    """`out`, or the nearest folder above it that exists (where `mkdir` would create it), when its
    permissions grant write access to no one (`r-xr-xr-x`). Such a folder was written into all the
    same by root (a container's usual user), for whom `os.access` ignores the mode: a data folder
    marked read-only got a run's ledger, results and reports."""
    folder = out
    try:
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        mode = folder.stat().st_mode
    except OSError:
        return None  # the mkdir below names what is wrong
    return folder if stat.S_ISDIR(mode) and not mode & 0o222 else None


def prepare_out_dir(out: Path, name: Naming = flag) -> Path:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory ({name('out')})")
    read_only = _read_only_folder(out)
    if read_only is not None:
        where = "" if read_only == out else f" ({read_only} is read-only)"
        raise UserError(
            f"{out}: output directory is not writable{where}: its permissions grant no one write access; "
            f"choose another {name('out')}"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out}: cannot create output directory: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"{out}: output directory is not writable")
    return out


# What a run writes besides its ledger and log: removed when the directory is started afresh.
# Only these names are ever removed, so a user's own files in DIR are left alone.
ARTIFACTS = (
    "results.json",
    "report.html",
    "report.md",
    "config.json",
    "responses.jsonl",
    "verdicts.jsonl",
    "templates.jsonl",
    "judgments.jsonl",
    "answers.json",
)
# Removed when any run starts: they reappear only when it finishes (see the module docstring).
RESULT_FILES = ("results.json", "report.html", "report.md")

# config.json keys that do not change results: times and versions, paths of the run itself, the
# call budgets and concurrency (a budget-stopped run is resumed with a larger one), and how many
# processes judge (the same verdicts either way), and where a rescored log is (`log_resolved`: the log
# as typed, `log`, is fingerprinted, so a run made before it was recorded resumes). Top-level keys,
# and the run-wide flags a command repeats in its own settings block.
_UNFINGERPRINTED_TOP = frozenset(
    {"started_at", "tool_version", "ledger", "concurrency", "budget", "settings_fingerprint"}
)
_UNFINGERPRINTED = frozenset(
    {
        "out",
        "cache",
        "config",
        "concurrency",
        "max_calls",
        "max_tokens_total",
        "judge_workers",
        "log_resolved",
    }
)
# The model settings that determine answers (not URLs, timeouts, retries, rates, prices or headers:
# replicas and retuned clients give the same answers, and the ledger key ignores them too).
_MODEL_FINGERPRINT_FIELDS = (
    "kind",
    "model",
    "name",
    "api",
    "params",
    "system_prompt",
    "identity",
    "path",
    "n_ctx",
    "cache_namespace",
)


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _UNFINGERPRINTED}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _fingerprinted(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config.json that determine results (what `settings_fingerprint` hashes)."""
    data = {k: v for k, v in config.items() if k not in _UNFINGERPRINTED_TOP}
    models = data.pop("models", None)
    core: dict[str, Any] = _scrub(data)
    if isinstance(models, dict):
        core["models"] = {
            name: {f: cfg.get(f) for f in _MODEL_FINGERPRINT_FIELDS} if isinstance(cfg, dict) else cfg
            for name, cfg in models.items()
        }
    elif models is not None:  # (never written so: a hand edit, kept to be found by `_edited_field`)
        core["models"] = models
    return core


def settings_fingerprint(config: dict[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the parts of a config.json that determine results."""
    core = _fingerprinted(config)
    text = json.dumps(core, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# The keys of config.json that `RunContext` reads back or that every run writes, with their JSON
# types: `command` (required) and `settings_fingerprint` decide whether a run may resume there.
_RECORDED_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "command": ((str,), "text"),
    "settings_fingerprint": ((str,), "text"),
    "tool_version": ((str,), "text"),
    "started_at": ((str,), "text"),
    "ledger": ((str,), "text"),
    "concurrency": ((int, type(None)), "a whole number or null"),
    "budget": ((dict,), "an object"),
}


def _run_results(path: Path) -> bool:
    """Whether `path` is absent or a results file distillscope writes (a JSON object of a known
    `kind`, or of the shape of a 0.1 results file): what --force may remove."""
    if not path.exists() and not path.is_symlink():
        return True
    from distillscope.results.load import _legacy_kind
    from distillscope.results.registry import KINDS

    try:
        data = load_json(path, "results file")
    except UserError:
        return False
    if not isinstance(data, dict):
        return False
    kind = data.get("kind")
    if kind is None:
        return _legacy_kind(data) is not None
    return isinstance(kind, str) and (
        kind in KINDS or kind == "attribution"
    )  # attribution: registered on use


def _previous_config(out: Path) -> dict[str, Any] | None:
    """The config.json of the run last started in `out` (None: there is none). A file that is not
    one (not JSON, not an object, `command` missing, a key of `_RECORDED_TYPES` of another type) is
    a `UserError` naming the file and the line or field: a resume must not guess what it holds."""
    path = out / "config.json"
    if not path.exists():
        if path.is_symlink():  # exists() is False for a link to nothing: it is not "no config.json"
            raise UserError.at(path, "a symbolic link to no file (its target is missing, or a loop)")
        return None
    data = load_json(path, "config.json")
    if not isinstance(data, dict):
        raise UserError.at(path, f"expected a JSON object of settings, got {json_kind(data)}")
    if "command" not in data:
        raise UserError.at(path, "missing", field="command")
    for key, (types, expected) in _RECORDED_TYPES.items():
        if key in data and (not isinstance(data[key], types) or isinstance(data[key], bool)):
            raise UserError.at(path, f"expected {expected}, got {json_kind(data[key])}", field=key)
    return data


_ABSENT = object()  # a key one side of `_first_difference` lacks


def _first_difference(recorded: Any, now: Any, where: str = "") -> tuple[str, Any, Any] | None:
    """The first place (a dotted path) where two JSON values differ, with both values there."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        for key in sorted({*recorded, *now}, key=str):
            path = f"{where}.{key}" if where else str(key)
            if key not in recorded or key not in now:
                return path, recorded.get(key, _ABSENT), now.get(key, _ABSENT)
            found = _first_difference(recorded[key], now[key], path)
            if found is not None:
                return found
        return None
    if isinstance(recorded, list) and isinstance(now, list) and len(recorded) == len(now):
        for i, (a, b) in enumerate(zip(recorded, now, strict=True)):
            found = _first_difference(a, b, f"{where}[{i}]")
            if found is not None:
                return found
        return None
    if isinstance(recorded, bool) != isinstance(now, bool) or recorded != now:
        return where or "(the file)", recorded, now
    return None


def _clip(text: str) -> str:
    return clip(text)


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "nothing"
    return _clip(json.dumps(value, ensure_ascii=False, default=str))


def _edited_field(path: Path, recorded: dict[str, Any], now: dict[str, Any]) -> UserError | None:
    """A config.json whose settings fingerprint matches this run's settings but whose settings do
    not (edited by hand after its run wrote it): the first edited field, as `UserError` naming it.
    Both sides are compared as the file holds them (redacted, through JSON)."""
    written = json.loads(json.dumps(redact_data(now), ensure_ascii=False, default=str))
    found = _first_difference(_fingerprinted(recorded), _fingerprinted(written))
    if found is None:
        return None
    field_path, was, made = found
    if made is _ABSENT:
        problem = f"not a setting of this run ({_shown(was)}): the file was edited after its run wrote it"
    elif None not in (was, made) and was is not _ABSENT and json_kind(was) != json_kind(made):
        problem = f"expected {json_kind(made)}, got {json_kind(was)} (the run was made with {_shown(made)})"
    else:
        problem = (
            f"edited after its run wrote it: it says {_shown(was)}, but the run there was made with "
            f"{_shown(made)} (its settings fingerprint says so)"
        )
    return UserError.at(path, problem, field=field_path)


def _remove(out: Path, names: Iterable[str]) -> None:
    for name in names:
        try:
            (out / name).unlink(missing_ok=True)
        except OSError as exc:
            raise UserError(
                f"{out / name}: cannot remove the last run's file: {exc.strerror or exc}"
            ) from None


class DirectoryLock:
    """An exclusive OS lock on DIR/.lock (`fcntl.flock`): released when closed or when the process
    ends, however it ends, so a crashed run never leaves a stale lock behind."""

    def __init__(self, out: Path, name: Naming = flag) -> None:
        self.path = out / ".lock"
        # a refused run removes the .lock it created (`remove_refusal_leftovers`): a lock taken on
        # the file it unlinked is no lock, so it is taken again on the file now at the path
        self._fd: int | None = None
        for _ in range(_LOCK_TRIES):
            if not self._open_and_lock(out, name) or self._holds_the_path():
                return
            self.close()
        raise UserError(f"{self.path}: the run lock keeps being removed; choose another {name('out')}")

    def _holds_the_path(self) -> bool:
        """The locked descriptor is the file at DIR/.lock (not one unlinked since it was opened)."""
        assert self._fd is not None
        try:
            on_disk = os.stat(self.path, follow_symlinks=False)
        except OSError:
            return False
        held = os.fstat(self._fd)
        return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)

    def _open_and_lock(self, out: Path, name: Naming) -> bool:
        """Open DIR/.lock and take its lock; False where the OS has no `flock` (no lock is taken)."""
        try:
            # a planted link: `O_CREAT` made a file at its target, outside DIR, and two directories
            # linked to one file refused each other; it is replaced by a file of DIR (its target left
            # untouched), as run.log's is, and `O_NOFOLLOW` refuses one planted again meanwhile
            if self.path.is_symlink():
                self.path.unlink()
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            self._fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise UserError(f"{self.path}: cannot create the run lock: {exc.strerror or exc}") from None
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (documented in docs/reliability.md)
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.close()
            raise UserError(
                f"{out}: another distillscope command is running in this directory; "
                f"wait for it to finish or choose another {name('out')}"
            ) from None
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


class _InertFormatter(logging.Formatter):
    """run.log's lines with their control characters written as visible escapes: a model's name,
    a server's message or a path may hold escape sequences, which `cat run.log` would run."""

    def format(self, record: logging.LogRecord) -> str:
        return visible_controls(super().format(record), keep_newlines=True)


def own_ledger(directory: Path, naming: Naming = flag) -> Path:
    """DIR/ledger.sqlite, the ledger a run (or a study, or the demo) keeps in its own directory.
    A link there was followed: SQLite wrote every call, and its `-wal` and `-shm` files, at the
    link's target, outside the directory. It is refused, not replaced: the ledger it points to
    may hold paid-for answers, which `--cache TARGET` shares on purpose. `naming`: how the refusal
    names that setting (`--cache`, `cache=`)."""
    path = directory / "ledger.sqlite"
    if path.is_symlink():
        raise UserError(
            f"{path}: is a symbolic link (to {os.readlink(path)}); a run writes its ledger only in its "
            f"own directory: remove the link, or give the ledger to share with {naming('cache')}"
        )
    for suffix in _LEDGER_COMPANIONS:  # SQLite's own files beside it: a link gave a vague I/O error
        companion = Path(f"{path}{suffix}")
        if companion.is_symlink():
            raise UserError(
                f"{companion}: is a symbolic link (to {os.readlink(companion)}); SQLite keeps this file "
                "of the ledger beside it: remove the link"
            )
    return path


# The files SQLite keeps beside a database while it is open (write-ahead log, shared memory, journal)
_LEDGER_COMPANIONS = ("-wal", "-shm", "-journal")


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Write then rename, so a reader never sees a half-written file. `durable` (the default)
    fsyncs before the rename, so a power loss cannot leave the name pointing at missing data; the
    reports skip it (about 5 ms a file): they are rebuilt from the results by `distillscope report`."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        publish_mode(fd)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:  # e.g. `path` is a directory: leave no stray temporary file beside it
            with contextlib.suppress(OSError):
                os.unlink(tmp)
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
    # The models, when the caller has read them already (a study, whose model files are relative
    # to the study file, not to the working directory); None: read from `config`.
    catalog: ModelCatalog | None = None
    concurrency: int | None = None
    max_calls: int | None = None
    max_tokens: int | None = None
    quiet: bool = False
    force: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    # Files the command reads, by the setting that names them: --force never deletes one of them
    # (`models answer -p DIR/responses.jsonl -o DIR --force` deleted its prompts, then "file not found")
    inputs: dict[str, Path] = field(default_factory=dict)
    # How a refused directory can be started afresh: commands without --force (a study's stages) say
    # what they offer instead.
    fresh_start_hint: str = "choose another --out, or --force to start it afresh (the ledger is kept)"
    # How the run's errors name a setting: the CLI's flags, or the Python API's keyword arguments
    naming: Naming = flag

    def validate(self) -> None:
        """A budget of 0 is refused as bad input: a run that may not call anything is a typo."""
        limits = {"concurrency": "concurrency", "max_calls": "max_calls", "max_tokens": "max_tokens_total"}
        for field_name, setting in limits.items():
            value = getattr(self, field_name)
            if value is not None and value < 1:
                raise UserError(f"{self.naming(setting)} must be at least 1, got {value}")


class RunContext(AbstractAsyncContextManager["RunContext"]):
    """Opens the run directory, ledger, progress and scheduler; closes them all on exit."""

    def __init__(self, options: RunOptions) -> None:
        options.validate()
        self.options = options
        out = options.out or default_out(options.command)
        self._made = missing_dirs(out)  # removed again if the run is refused before it writes
        self.out = prepare_out_dir(out, options.naming)
        # what a directory that was there held: a refused run removes only the files it added
        self._found = frozenset() if self._made else entry_names(self.out)
        try:
            self.lock = DirectoryLock(self.out, options.naming)
        except UserError:
            remove_made_dirs(self._made)
            raise
        self._forced = False  # --force removed the last run's files (said in run.log once it is open)
        try:
            self.previous = self._claim_directory()
            if options.catalog is not None:  # a study's, checked when its file was read
                self.catalog = ModelCatalog(dict(options.catalog.models), options.catalog.path)
            else:
                self.catalog = ModelCatalog.load(options.config)
                if options.config is not None and options.cache is not None:
                    # a shared ledger outlives this run: no two models of the file it cannot tell apart
                    # (those this run uses are checked as it builds them, `model`)
                    check_one_ledger(Path(options.config), self.catalog, ledger="the shared ledger (--cache)")
            ledger_path = options.cache or own_ledger(self.out, options.naming)
            self._new_ledger = not ledger_path.exists()
            self.ledger = Ledger(ledger_path, naming=options.naming)
        except BaseException as exc:
            self._release(refused=isinstance(exc, UserError))
            raise
        self.fingerprint: str | None = None
        self.progress = Progress.auto(options.quiet)
        self.scheduler = Scheduler(
            self.ledger,
            concurrency=options.concurrency,
            budget=Budget(options.max_calls, options.max_tokens),
            progress=self.progress,
        )
        self.backends: dict[str, Backend] = {}
        self._ledger_models: dict[str, tuple[str, set[str]]] = {}  # ledger identity -> (first spec, its URLs)
        self.started_at = dt.datetime.now(dt.UTC)
        try:
            self._log_handler = self._open_log()
        except BaseException:  # a run.log that cannot be opened: the run is refused, DIR left as it was
            self.ledger.close()
            if self._new_ledger:
                self._drop_unused_ledger()
            self._release(refused=True)
            raise
        if self._forced:  # logged before run.log was open, it went to every other run's log instead
            log.info(
                "%s: removed the last run's files from %s (the ledger is kept)",
                options.naming("force", True),
                self.out,
            )
        self._warming: list[asyncio.Task[None]] = []
        # files a run opens beside its ledger (the embedding cache): closed when the run ends, before
        # the ledger, so SQLite removes their -wal and -shm files (left open, they stayed behind)
        self.resources = contextlib.ExitStack()

    def warm_up(self, jobs: Iterable[Callable[[], object]]) -> None:
        """Do `jobs` (set-up the run will need: a judge's patterns, the report's imports) in the
        lulls of the run's traffic; the ones not done when the run ends are dropped."""
        self._warming.append(self.scheduler.lulls.run_in_lulls(jobs))

    def model(self, spec: str, **overrides: Any) -> Backend:
        """The backend for a spec; one instance per (spec, overrides) so lanes are shared."""
        key = spec + json.dumps(
            {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in overrides.items()},
            sort_keys=True,
            default=str,
        )
        if key not in self.backends:
            backend = build_backend(
                spec,
                self.catalog,
                naming=self.options.naming,
                concurrency=self.options.concurrency,
                **overrides,
            )
            self._check_ledger_twin(spec, backend)
            self.backends[key] = backend
        return self.backends[key]

    def _check_ledger_twin(self, spec: str, backend: Backend) -> None:
        """No two models of this run that its ledger cannot tell apart (`models.spec.ledger_identity`):
        two served under one name at two URLs (two fine-tunes, each served by vLLM as `model`) were
        one model to it, and the second was answered with the first's answers, its server never
        asked. A model of the `--config` file is named at its line."""
        identity = ledger_identity(backend.config)
        if identity is None:
            return
        urls = set(backend.config.urls)
        first, first_urls = self._ledger_models.setdefault(identity, (spec, urls))
        if first == spec or first_urls & urls:
            return
        message = ledger_twin_message(spec, first, backend.config, "a run's ledger")
        if spec in self.catalog.models and self.catalog.path is not None:
            raise yaml_error(self.catalog.path, message, field=f"models.{spec}")
        raise UserError(f"model '{clip(spec)}': {message}")

    def _claim_directory(self) -> dict[str, Any] | None:
        """Refuse a directory of another command (or one holding results but no config.json);
        with --force, remove what the last run wrote (not the ledger) and start afresh.
        Returns the last run's config.json when it is kept, to compare settings in `write_config`."""
        out, command = self.out, self.options.command
        has_config = (out / "config.json").exists() or (out / "config.json").is_symlink()
        try:
            previous = _previous_config(out)
        except UserError as exc:
            if not self.options.force:
                raise UserError(
                    f"{exc}, so the run there cannot be checked; {self.options.fresh_start_hint}"
                ) from None
            previous = None  # --force starts afresh whatever a run's config.json holds
        if previous is None:
            # not a run directory: a file of a name the run writes is the user's (a replay file kept
            # as DIR/responses.jsonl was written over by the run's own answers, even when it was an
            # input). --force starts a run directory afresh; it never deletes a user's file, so a folder
            # with no config.json, or whose results.json is no distillscope results file, is refused too
            found = None if has_config else next((name for name in ARTIFACTS if (out / name).exists()), None)
            if found is not None:
                raise UserError(
                    f"{out}: holds {found} but no config.json (not a distillscope run directory), and a run "
                    f"there would write over it{' (--force starts only a run directory afresh)' if self.options.force else ''}: "
                    f"choose another {self.options.naming('out')}, or move the file away"
                )
            if self.options.force and not _run_results(out / "results.json"):
                raise UserError(
                    f"{out / 'results.json'}: not a distillscope results file, and --force would delete it "
                    f"(it starts only a run directory afresh): choose another {self.options.naming('out')}, "
                    "or move the file away"
                )
        if self.options.force:
            if previous is not None or any((out / name).exists() for name in ARTIFACTS):
                self._keep_inputs(out)
                _remove(out, ARTIFACTS)
                self._forced = True
            return None
        if previous is None:
            return None
        if previous.get("command") != command:
            raise UserError(
                f"{out}: is the run directory of '{_clip(str(previous.get('command')))}', not '{command}'; "
                + self.options.fresh_start_hint
            )
        return previous

    def _keep_inputs(self, out: Path) -> None:
        """Refuse, before --force removes anything, when a file it would remove is one the command reads."""
        for name in ARTIFACTS:
            for setting, given in self.options.inputs.items():
                with contextlib.suppress(OSError):
                    if (out / name).is_file() and os.path.samefile(out / name, given):
                        what = "its replay: model" if setting == "model" else self.options.naming(setting)
                        raise UserError(
                            f"{out / name}: is a file this run reads ({what}), and "
                            f"{self.options.naming('force', True)} would delete it before it is read: copy it "
                            f"out of {out} first, or choose another {self.options.naming('out')}"
                        )

    def write_config(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """config.json: the resolved settings of this run (secrets never appear here).

        Called when the run starts, before any model call. A directory whose last run had other
        settings is refused (`UserError`, nothing written); otherwise the last run's results and
        reports are removed, so that a run stopped before its end leaves none beside this config."""
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
        fingerprint = settings_fingerprint(data)
        # a 0.1 run directory has no fingerprint: it is adopted (its results are removed below)
        before = (self.previous or {}).get("settings_fingerprint")
        if before is not None and before != fingerprint:
            raise UserError(
                f"{self.out}: the '{self.options.command}' run there has other settings "
                f"(fingerprint {_clip(str(before))}, now {fingerprint}); rerun with the same settings to resume, "
                + self.options.fresh_start_hint
            )
        previous = self.previous if before is not None else None
        edited = _edited_field(self.out / "config.json", previous, data) if previous is not None else None
        if edited is not None:  # the fingerprint matches, the settings beside it do not
            raise UserError(f"{edited}; restore it to resume, {self.options.fresh_start_hint}")
        _remove(self.out, RESULT_FILES)
        data["settings_fingerprint"] = self.fingerprint = fingerprint
        write_json(self.out / "config.json", data)
        return data

    def cut_answers(self, *, announce: bool = True) -> list[str]:
        """One warning per model whose answers were longer than its `max_answer_bytes` and were cut
        there (a replayed file's, or a server's): counted in `run.per_model` as `calls_capped`, and
        scored as cut. Call it when the run's calls are done. `announce`: also say each in run.log
        and on stderr (not in quiet mode), for a run whose results hold no warnings; a run that
        records its warnings (`rse run`, `rse attribute`) adds these to them, and shows them."""
        lines = [
            f"model '{model}': {n} answer{'s' if n != 1 else ''} longer than max_answer_bytes ({limit:,} bytes) "
            f"{'were' if n != 1 else 'was'} cut there (finish_reason 'capped'); set a larger max_answer_bytes "
            f"for the model in {self.options.naming('config')} to keep answers whole"
            for model, n, limit in self.scheduler.capped()
        ]
        if announce:
            for line in lines:
                log.warning(line)
                self.progress.note(f"warning: {line}")
        return lines

    def run_summary(self) -> dict[str, Any]:
        """Costs and counts for results.json."""
        return {
            "command": self.options.command,
            "settings_fingerprint": self.fingerprint,
            "started_at": self.started_at.isoformat(),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "tool_version": __version__,
            "totals": self.scheduler.totals(),
            "per_model": self.scheduler.stats(),
        }

    def _release(self, *, refused: bool) -> None:
        release_directory(self.lock, self.out, self._made, self._found, refused=refused)

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
        out = self.out
        path = out / "run.log"
        try:
            if path.is_symlink():  # planted: the run's log went through it, outside its directory
                # replaced by a file of the directory, as write_atomic replaces every other file;
                # the link's target is left as it is
                path.unlink()
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:  # run.log made a directory: an IsADirectoryError traceback
            raise UserError(f"{out / 'run.log'}: cannot open the run's log: {exc.strerror or exc}") from None
        self._run_token = _CURRENT_RUN.set(out)
        handler.setFormatter(_InertFormatter("%(asctime)s %(levelname)s %(message)s"))
        handler.addFilter(lambda _record: _CURRENT_RUN.get() in (None, out))
        handler.addFilter(RedactingFilter())
        log.addHandler(handler)
        _RUN_LOG_GATE.open()
        return handler

    async def __aenter__(self) -> RunContext:
        self.progress.__enter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._warming:
            await cancel_quietly(task)
        self.progress.__exit__(*exc)
        for backend in self.backends.values():
            await backend.aclose()
        try:
            self.resources.close()
            self.ledger.close()
            if isinstance(exc[1], UserError) and self._new_ledger:
                self._drop_unused_ledger()
        finally:
            log.removeHandler(self._log_handler)
            _RUN_LOG_GATE.close()
            self._log_handler.close()
            with contextlib.suppress(ValueError):  # entered in another context than it was made in
                _CURRENT_RUN.reset(self._run_token)
            self._release(refused=isinstance(exc[1], UserError))
