"""JSON parsed with its numbers checked: the one rule for numbers in every record we read.

`json.loads` accepts `NaN`, `Infinity` and `1e999` (an infinite float), and integers of any size
(10**30; a 5,000-digit one raises ValueError). None of them is a count, a score or an id we can
store: SQLite and numpy hold 64-bit integers, and a non-finite float poisons every mean. Files
(`distillscope.records`) and server bodies (`models.openai_compat`) parse through `loads`, and
records of other formats (YAML) are walked with `find_bad_number`; both name the field.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections import abc
from typing import Any

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
_MAX_INT_DIGITS = 19  # longer than any 64-bit integer: refused before `int()` reads it


def json_kind(value: Any) -> str:
    """A JSON value's kind, as an error message names it ("expected text, got a number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


class BadNumber:
    """A number found out of range while parsing, kept in the value until the walk names its field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 24 else f"{text[:12]}…({len(text)} characters)"


class NumberOutOfRange(ValueError):
    """A number that is not a finite float or a 64-bit integer; `field` is its dotted path."""

    def __init__(self, field: str, shown: str, line: int | None = None) -> None:
        self.field = field
        self.shown = shown
        self.line = line  # its line in the text `loads` read (None: not known)
        where = f"field '{field}': " if field else ""
        super().__init__(f"{where}number out of range ({shown}): only finite numbers and 64-bit integers")


class DuplicateKey(ValueError):
    """A JSON object that names one key twice (`json.loads` keeps the last value without a word).
    `line`: where the second one is in the text `loads` read (None: not known)."""

    def __init__(self, key: str, line: int | None = None) -> None:
        self.key = key
        self.line = line
        super().__init__(f"duplicate key {key!r}")


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An `object_pairs_hook` that refuses a key given twice (`DuplicateKey`). Why: in a file people
    edit by hand (an audit's labels, a judge calibration) a second `"label_loose"` typed after the
    first is two answers to one question, and which one was meant cannot be known."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def _parse_int(text: str) -> int | BadNumber:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return BadNumber(text)
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else BadNumber(text)


def _parse_float(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(text)


def loads(text: str | bytes, *, unique: bool = False) -> Any:
    """`json.loads`, raising `NumberOutOfRange` (a ValueError) naming the field of the first number
    that is `NaN`, `Infinity`, non-finite (`1e999`) or an integer beyond 64 bits. `unique`: an
    object naming a key twice raises `DuplicateKey` with its line (for files people write: a
    second `"response"` typed into a row is two answers, and json keeps the last without a word)."""
    flagged: list[int] = []  # the bad numbers' places among the text's numbers, in the order read
    numbers = [0]

    def counted(value: Any) -> Any:
        if isinstance(value, BadNumber):
            flagged.append(numbers[0])
        numbers[0] += 1
        return value

    def parse_int(text: str) -> int | BadNumber:
        return counted(_parse_int(text))  # type: ignore[no-any-return]

    def parse_float(text: str) -> float | BadNumber:
        return counted(_parse_float(text))  # type: ignore[no-any-return]

    def bad(text: str) -> BadNumber:
        return counted(BadNumber(text))  # type: ignore[no-any-return]

    try:
        value = json.loads(
            text,
            parse_int=parse_int,
            parse_float=parse_float,
            parse_constant=bad,
            object_pairs_hook=unique_keys if unique else None,
        )
    except DuplicateKey as exc:
        raise DuplicateKey(exc.key, _duplicate_line(text, exc.key)) from None
    if flagged:
        found = find_bad_number(value)
        if found is not None:
            raise NumberOutOfRange(*found, line=_number_line(text, flagged[0]))
    return value


# A JSON text's strings and numbers, in order: outside its strings a valid text holds no other digits
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')


# A JSON text's keys (a string and its colon), brackets and other strings, in order
_JSON_STRUCTURE = re.compile(r'("(?:[^"\\]|\\.)*")(\s*:)?|[{}\[\]]')


def _duplicate_line(text: str | bytes, key: str) -> int | None:
    """The line of the first key `key` named a second time in one object of a JSON text (only
    looked for once `json.loads` has found one: the hook itself does not know where it is)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    objects: list[set[str] | None] = []  # one entry per open bracket: an object's keys so far
    for match in _JSON_STRUCTURE.finditer(text):
        token = match.group()
        if token in ("{", "["):
            objects.append(set() if token == "{" else None)
        elif token in ("}", "]"):
            if objects:
                objects.pop()
        elif match.group(2) is not None and objects and (keys := objects[-1]) is not None:
            name = json.loads(match.group(1))
            if name == key and name in keys:
                return text.count("\n", 0, match.start()) + 1
            keys.add(name)
    return None


def _number_line(text: str | bytes, index: int) -> int | None:
    """The line of the `index`-th number (0-based) of a JSON text `json.loads` has read."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    numbers = (m for m in _JSON_TOKEN.finditer(text) if not m.group().startswith('"'))
    for i, match in enumerate(numbers):
        if i == index:
            return text.count("\n", 0, match.start()) + 1
    return None


def _shown(node: Any) -> str | None:
    """How a bad number is shown, or None when `node` is fine."""
    if isinstance(node, BadNumber):
        return node.text
    if isinstance(node, bool):
        return None
    if isinstance(node, int) and not INT_MIN <= node <= INT_MAX:
        digits = len(str(abs(node))) if node.bit_length() < 14_000 else None
        return f"an integer of {digits} digits" if digits else "an integer of over 4,000 digits"
    if isinstance(node, float) and not math.isfinite(node):
        return repr(node)
    return None


def find_bad_number(value: Any) -> tuple[str, str] | None:
    """(dotted field path, the number as shown) of the first out-of-range number in a parsed
    value (JSON, YAML: `.inf`, `.nan`, 10**30), or None. Iterative: no recursion to overflow."""
    found = locate_bad_number(value)
    return None if found is None else (".".join(str(part) for part in found[0]), found[1])


def locate_bad_number(value: Any) -> tuple[tuple[str | int, ...], str] | None:
    """`find_bad_number` with the path as its parts: a mapping's key as text, a list's index as an
    int (so that a YAML reader can find the line it is on and name it `foils[0]`)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            items: Any = ((str(k), v) for k, v in node.items())
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            shown = _shown(node)
            if shown is not None:
                return path, shown
            continue
        children = [(child, (*path, key)) for key, child in items]
        stack.extend(reversed(children))
    return None


def bool_for_number(hint: Any, value: Any) -> tuple[tuple[str | int, ...], str] | None:
    """(path, "an integer" or "a number") of the first bool in `value` where `hint` (a type, a
    dataclass field's, a pydantic model's) wants a number and takes no bool, or None. A bool is an
    int to Python and to pydantic's lax mode: `sample: yes` (YAML's true) was read as 1, and
    `max_calls=True` as one call. Walks lists, tuples, mappings and pydantic models."""
    stack: list[tuple[Any, Any, tuple[str | int, ...]]] = [(hint, value, ())]
    while stack:
        hint, value, path = stack.pop()
        types = _union(hint)
        if isinstance(value, bool):
            if bool not in types and Any not in types and (int in types or float in types):
                return path, "a number" if float in types else "an integer"
            continue
        for kind in types:
            fields = getattr(kind, "model_fields", None)
            origin, args = typing.get_origin(kind), typing.get_args(kind)
            if isinstance(value, dict) and isinstance(fields, dict):
                items = [(fields[k].annotation, v, (*path, str(k))) for k, v in value.items() if k in fields]
            elif isinstance(value, dict) and origin in (dict, abc.Mapping) and len(args) == 2:
                items = [(args[1], v, (*path, str(k))) for k, v in value.items()]
            elif isinstance(value, list | tuple) and origin in (list, tuple, abc.Sequence) and args:
                items = [(args[0], v, (*path, i)) for i, v in enumerate(value)]
            else:
                continue
            stack.extend(reversed(items))  # the first in the file is found first
            break
    return None


def _union(hint: Any) -> list[Any]:
    """The types a hint allows: `int | None` -> [int, NoneType]; `Annotated[int, ...]` -> [int]."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _union(typing.get_args(hint)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [t for arg in typing.get_args(hint) for t in _union(arg)]
    return [hint]
