"""The one check of the Python API's arguments, at its boundary.

`ds.ice.run(123)`, `budget="lots"`, `out=5`, datasets given as a list, or one test model given as
a string (read one character at a time, as "model spec 'r'") raised raw errors from deep inside
a run. Every argument is checked here against the type the settings declare (pydantic, lax as the
CLI and study files are: "5" is 5) and a wrong one is a one-line `UserError` naming it."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from distillscope.errors import UserError, clip
from distillscope.jsonsafe import INT_MAX, INT_MIN

# The run-wide keyword arguments every model-calling function takes, and their types.
RUN_KEYS: dict[str, Any] = {
    "cache": str | Path | None,
    "config": str | Path | None,
    "concurrency": int | None,
    "max_calls": int | None,
    "max_tokens_total": int | None,
    "quiet": bool,
    "force": bool,
}


@functools.cache
def _adapter(hint: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(hint)


def _check(name: str, value: Any, hint: Any) -> Any:
    from pydantic import ValidationError

    from distillscope.jsonsafe import bool_for_number

    wrong = bool_for_number(hint, value)
    if wrong is not None:  # pydantic's lax mode reads True as 1: `max_calls=True` allowed one call
        where = "".join(f"[{p!r}]" for p in wrong[0])
        raise UserError(f"argument '{name}{where}': expected {wrong[1]}, got a boolean (got {_show(value)})")
    try:
        checked = _adapter(hint).validate_python(value, strict=False)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise UserError(f"argument '{name}': {message} (got {_show(value)})") from None
    if isinstance(checked, float) and not math.isfinite(checked):
        # the CLI refuses nan and inf in every float flag: here `judge_temperature=nan` ran and wrote
        # NaN into config.json, and `temperature=nan` raised pydantic's ValidationError mid-run
        raise UserError(f"argument '{name}': expected a finite number (got {_show(value)})")
    if isinstance(checked, int) and not isinstance(checked, bool) and not INT_MIN <= checked <= INT_MAX:
        # `max_calls=10**30` ran the whole run, then failed writing results.json (no file holds it)
        raise UserError(f"argument '{name}': out of range, at most {INT_MAX:,} (got {_show(value)})")
    return checked


def _show(value: Any) -> str:
    return clip(repr(value))


def settings_fields(
    cls: type,
    fields: Mapping[str, Any],
    given: tuple[str, ...] = (),
    *,
    run_keys: bool = True,
    own: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`fields` checked against the dataclass `cls`'s fields and types (`given`: fields the function
    fills in itself, not accepted as keywords). `run_keys`: whether the function also takes the
    run-wide RUN_KEYS; `own`: the function's own parameters (`out`, `families`, ...). An unknown
    keyword's message lists all of these and no other, and names the one a misspelling most likely
    meant: `familes=` or `outt=` was answered with a list that did not hold `families` or `out`."""
    known = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in known:
            allowed = list(dict.fromkeys([*own, *known, *(RUN_KEYS if run_keys else ())]))
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.7)
            meant = f"; did you mean '{close[0]}'?" if close else ""
            raise UserError(
                f"unexpected keyword argument '{clip(name)}'{meant} (known: {', '.join(allowed)})"
            )
        out[name] = _check(name, value, hints[name])
    return out


def run_options(run: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _check(name, value, RUN_KEYS[name]) for name, value in run.items()}


def model_spec(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"argument '{name}': expected a model spec or name as text (got {_show(value)})")
    return value


def model_specs(value: Any, name: str) -> list[str]:
    """A list of model specs; one spec given as a bare string is refused (it is not a list of its letters)."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise UserError(
            f"argument '{name}': expected a list of model specs, e.g. [{_show(value)}] (got {_show(value)})"
        )
    return [model_spec(item, f"{name}[{i}]") for i, item in enumerate(value)]


def datasets(value: Any, name: str = "datasets") -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise UserError(
            f"argument '{name}': expected a mapping {{name: path, 'builtin' or 'hf:NAME'}} (got {_show(value)})"
        )
    out: dict[str, str] = {}
    for key, source in value.items():
        if not isinstance(key, str) or not key:
            raise UserError(f"argument '{name}': dataset names must be text (got {_show(key)})")
        out[key] = str(_check(f"{name}[{key!r}]", source, str | Path))
    return out


def families(value: Any, name: str = "families") -> dict[str, list[str]]:
    """{family name: [model spec, ...]}, each name text holding a visible character, kept as the
    CLI keeps `--family NAME=SPEC`'s (stripped; two keys that strip to one name are one family
    given twice, refused). A number as a name ran the whole attribution and then failed writing its
    result with pydantic's raw error; a blank name was a family no command line can give."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UserError(f"argument '{name}': expected {{name: [model spec, ...]}} (got {_show(value)})")
    out: dict[str, list[str]] = {}
    for key, specs in value.items():
        if not isinstance(key, str) or not key.strip():
            raise UserError(
                f"argument '{name}': family names must be text with a visible character (got {_show(key)})"
            )
        family = key.strip()
        if family in out:
            raise UserError(
                f"argument '{name}': family {family!r} is given twice (as {_show(key)}); give it once"
            )
        out[family] = model_specs(specs, f"{name}[{key!r}]")
    return out


def path(value: Any, name: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value):
        raise UserError(f"argument '{name}': expected a path (got {_show(value)})")
    # `~` is the home folder here as in the files the library reads itself (datasets, banks, model
    # files): `out="~/runs/x"` made a folder named `~` in the working directory, and
    # `ds.load("~/runs/x")` said there was no such run
    try:
        return Path(value).expanduser()
    except RuntimeError:  # `~nosuchuser/x`, or no home folder known
        raise UserError(f"argument '{name}': cannot find the home folder of {_show(str(value))}") from None
