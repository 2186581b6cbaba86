"""Regular expressions from a user's `--identities` file, time-boxed.

The families' `patterns:` run over every answer of a run, and a pattern such as `(a|aa)+$`
backtracks for hours on a long enough answer. Python's `re` cannot be stopped, so a user's
patterns are compiled with the `regex` engine (the same syntax, plus a `timeout`) and each one:

* is checked when the file is loaded: it must compile on its own, and it must answer within
  `LOAD_PROBE_TIMEOUT_S` on long runs of the characters it names (where catastrophic patterns
  show themselves); either failure is a `UserError` naming the file, family and field;
* runs with a timeout of `MATCH_TIMEOUT_S` a call on the answers; running past it is the same
  located `UserError` (exit 2; the answers are kept in the ledger, so a rerun with the pattern
  fixed sends no call again).

Patterns are matched one by one, never joined into one alternation, so a group name used in two
families, a back-reference or a global flag like `(?i)` means what it says in its own pattern.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from distillscope.errors import UserError

MATCH_TIMEOUT_S = 1.0
LOAD_PROBE_TIMEOUT_S = 0.2
PROBE_LENGTH = 5_000
# Runs that expose backtracking in patterns over words, digits or space, besides the pattern's own
# literal characters.
_PROBE_CHARS = "a1 "


@dataclass
class UserPattern:
    """One compiled user pattern and where it came from (for the error that names it)."""

    pattern: str
    where: str  # the file
    field: str  # "<family>.patterns[<i>]"
    compiled: Any

    def _timed(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.compiled, method)(*args, timeout=MATCH_TIMEOUT_S)
        except TimeoutError:
            raise self.too_slow(MATCH_TIMEOUT_S) from None

    def too_slow(self, seconds: float) -> UserError:
        return UserError.at(
            self.where,
            f"the pattern {self.pattern!r} ran over {seconds:g} s on one text (catastrophic backtracking, "
            "as in '(a|aa)+'): rewrite it without nested or overlapping repeats",
            field=self.field,
        )

    def search(self, text: str) -> Any:
        return self._timed("search", text)

    def match(self, text: str, pos: int = 0) -> Any:
        return self._timed("match", text, pos)

    def fullmatch(self, text: str) -> Any:
        return self._timed("fullmatch", text)

    def finditer(self, text: str) -> Iterator[Any]:
        try:  # the timeout covers the whole scan
            return iter(list(self.compiled.finditer(text, timeout=MATCH_TIMEOUT_S)))
        except TimeoutError:
            raise self.too_slow(MATCH_TIMEOUT_S) from None


def compile_user_pattern(pattern: Any, where: str, field: str) -> UserPattern:
    """A user's pattern, compiled and probed, or a `UserError` naming `where` and `field`."""
    if not isinstance(pattern, str) or not pattern:
        raise UserError.at(where, "expected a non-empty regular expression", field=field)
    import regex  # imported here: only a run with a user's identity file pays for it

    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise UserError.at(where, f"bad regular expression {pattern!r}: {exc}", field=field) from None
    found = UserPattern(pattern, where, field, compiled)
    if compiled.fullmatch("") is not None:
        raise UserError.at(
            where, f"the pattern {pattern!r} matches empty text: it would mark every position", field=field
        )
    for probe in _probes(pattern):
        try:
            list(compiled.finditer(probe, timeout=LOAD_PROBE_TIMEOUT_S))
        except TimeoutError:
            raise found.too_slow(LOAD_PROBE_TIMEOUT_S) from None
    return found


def _probes(pattern: str) -> list[str]:
    """Long runs of each character the pattern names (and of a letter, a digit and a space), each
    ended by a character that makes the match fail at the last moment."""
    chars = dict.fromkeys(ch for ch in pattern + _PROBE_CHARS if ch.isalnum() or ch == " ")
    return [ch * PROBE_LENGTH + "\x00" for ch in chars]
