"""Which directories hold a run, and what other commands may write there.

A run directory (one holding a ledger, a config.json or a results.json) belongs to the command
that made it, and its files are that command's alone. Two checks keep it so:

* `check_output_file`: every output *file* a user names (`report --out`, `ice audit sample --out`,
  `ice audit score --json`) is refused when it is one of the files of a run directory, so no
  command writes over another run's results, verdicts or ledger;
* `claim_directory`: a command that starts a run in a directory (a study) claims it by kind in its
  config.json, so another kind of command refuses it (`RunContext` checks the same `command` key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from distillscope import __version__
from distillscope.engine.run import ARTIFACTS, write_json
from distillscope.errors import UserError
from distillscope.records import load_json

RUN_MARKERS = ("config.json", "results.json", "ledger.sqlite")
REPORT_FILES = ("report.html", "report.md")  # written into a directory a command claims, beside results.json
# Every file a run writes in its directory.
RUN_FILES = frozenset(
    {
        *ARTIFACTS,
        "ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm", "ledger.sqlite-journal",
        "run.log", ".lock", "probabilities.jsonl", "features.json",
    }
)  # fmt: skip


def is_run_dir(directory: Path) -> bool:
    return directory.is_dir() and any((directory / name).is_file() for name in RUN_MARKERS)


def check_output_file(path: Path, flag: str, *, own: Iterable[Path] = ()) -> None:
    """Refuse to write `path` (given with `flag`) when it is a file of a run directory, unless it is
    one of the command's `own` outputs."""
    if path.name not in RUN_FILES or not is_run_dir(path.parent):
        return
    resolved = path.resolve()
    if any(resolved == p.resolve() for p in own):
        return
    raise UserError(
        f"{path}: is the {path.name} of the run in {path.parent}; {flag} must not write over a run's "
        "files: choose another file name or folder"
    )


def _recorded(path: Path, key: str) -> str | None:
    """The text under `key` in the JSON file `path`, or None when the file is missing, unreadable
    or holds none. Read by the one reader of input files, so a FIFO planted there is refused (it
    hung the command) and deep nesting is an error (it was a RecursionError traceback)."""
    try:
        data: Any = load_json(path, path.name)
    except UserError:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def directory_kind(directory: Path) -> str | None:
    """The `command` recorded in DIR/config.json, or None when there is none (or it is unreadable)."""
    return _recorded(directory / "config.json", "command")


def _results_kind(directory: Path) -> str | None:
    """The `kind` of DIR/results.json (a study's results say "study"), or None."""
    return _recorded(directory / "results.json", "kind")


def claim_directory(directory: Path, command: str, settings: dict[str, Any], hint: str) -> None:
    """Make `directory` the run directory of `command`: refused when it holds another kind of run
    (`hint` says what to do instead); else DIR/config.json records the kind."""
    kind = directory_kind(directory)
    config = directory / "config.json"
    if kind is None and (config.exists() or config.is_symlink()):
        try:  # the reader's own words say why (not JSON, nested too deep, not a regular file)
            load_json(config, "config.json")
            why = f"{config}: holds no command"
        except UserError as exc:
            why = str(exc)
        raise UserError(f"{why}, so the run there cannot be checked; {hint}")
    if kind is not None and kind != command:
        raise UserError(f"{directory}: is the run directory of '{kind}', not '{command}'; {hint}")
    if kind is None and (directory / "results.json").exists() and _results_kind(directory) != command:
        raise UserError(
            f"{directory}: holds a results.json of another kind and no config.json (not a {command} "
            f"directory); {hint}"
        )
    # not a run directory: a report of the name the command writes there is the user's, as `RunContext`
    # refuses it (a study wrote its report.md over the user's own, exit 0); beside a results.json of
    # this command (a 0.1 directory), they are its own
    mine = kind is not None or (directory / "results.json").exists()
    found = None if mine else next((n for n in REPORT_FILES if (directory / n).exists()), None)
    if found is not None:
        raise UserError(
            f"{directory}: holds {found} but no config.json (not a distillscope run directory), and a "
            f"{command} there would write over it; {hint}, or move the file away"
        )
    write_json(
        directory / "config.json",
        {
            "command": command,
            "tool_version": __version__,
            "started_at": dt.datetime.now(dt.UTC).isoformat(),
            **settings,
        },
    )
