"""The result kinds `distillscope.load` knows, by their `kind` field.

A stage that writes a new kind of result (e.g. attribution) defines a `Result` subclass with a
`kind` literal and registers it here; `load` then reads it with no other change:

    @register
    class AttributionResult(Result):
        kind: Literal["attribution"] = "attribution"
"""

from __future__ import annotations

from typing import TypeVar

from distillscope.results.base import Result

R = TypeVar("R", bound=type[Result])

KINDS: dict[str, type[Result]] = {}


def register(cls: R) -> R:
    """Make `cls` the model `load` uses for results whose `kind` is its default `kind`."""
    kind = cls.model_fields["kind"].default  # type: ignore[call-overload]
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{cls.__name__}: a registered result needs a default `kind` string")
    KINDS[kind] = cls
    return cls
