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
from typing import Any

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
_MAX_INT_DIGITS = 19  # longer than any 64-bit integer: refused before `int()` reads it


class BadNumber:
    """A number found out of range while parsing, kept in the value until the walk names its field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 24 else f"{text[:12]}…({len(text)} characters)"


class NumberOutOfRange(ValueError):
    """A number that is not a finite float or a 64-bit integer; `field` is its dotted path."""

    def __init__(self, field: str, shown: str) -> None:
        self.field = field
        self.shown = shown
        where = f"field '{field}': " if field else ""
        super().__init__(f"{where}number out of range ({shown}): only finite numbers and 64-bit integers")


def _parse_int(text: str) -> int | BadNumber:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return BadNumber(text)
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else BadNumber(text)


def _parse_float(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(text)


def loads(text: str | bytes) -> Any:
    """`json.loads`, raising `NumberOutOfRange` (a ValueError) naming the field of the first number
    that is `NaN`, `Infinity`, non-finite (`1e999`) or an integer beyond 64 bits."""
    flagged: list[bool] = []

    def bad(text: str) -> BadNumber:
        flagged.append(True)
        return BadNumber(text)

    def parse_int(text: str) -> int | BadNumber:
        value = _parse_int(text)
        if isinstance(value, BadNumber):
            flagged.append(True)
        return value

    def parse_float(text: str) -> float | BadNumber:
        value = _parse_float(text)
        if isinstance(value, BadNumber):
            flagged.append(True)
        return value

    value = json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=bad)
    if flagged:
        found = find_bad_number(value)
        if found is not None:
            raise NumberOutOfRange(*found)
    return value


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
