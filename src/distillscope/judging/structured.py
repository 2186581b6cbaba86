"""Structured outputs: ask the server for JSON of a schema through `response_format`, and learn
which form each model accepts.

OpenAI (and vLLM, llama.cpp's own server) take `{"type": "json_schema", "json_schema": {...}}`;
llama-cpp-python's server takes `{"type": "json_object", "schema": ...}`. `--structured`:

* `off`: never send one (the fenced verdict-tag protocol alone);
* `on`: always send one, in the first form the server accepts;
* `auto` (default): like `on`, and a server that refuses every form (HTTP 400 or 422, or an error
  naming `response_format`) is asked once more without one.

What a model accepts is learned from one probe call and remembered for the backend's lifetime, so
a server without structured outputs costs one refused call, not a batch of them. A server that
takes a form but ignores it is caught the same way: a probe reply the caller cannot use (by
default: not a JSON object) means the form did nothing there, and the next form is tried; a
usable reply (e.g. the fenced-tag verdict from a model that needs no schema) keeps the form. Every request
goes through the scheduler and its ledger; `response_format` is part of the request key. The
reply is parsed by the same code either way (a schema-constrained reply is a bare JSON object).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from distillscope.engine.scheduler import CallResult, Scheduler
from distillscope.errors import UserError
from distillscope.judging.context import is_context_overflow
from distillscope.models.base import Backend
from distillscope.models.types import ModelRequest
from distillscope.naming import Naming, flag

MODES = ("auto", "on", "off")
REFUSAL_STATUS = frozenset({400, 422})  # what a server answers to a response_format it does not take


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's form (strict: every property required, no others)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def json_object_format(schema: dict[str, Any]) -> dict[str, Any]:
    """llama-cpp-python's form: a JSON object constrained by the schema (a grammar)."""
    return {"type": "json_object", "schema": schema}


def check_mode(mode: str, name: Naming = flag) -> str:
    if mode not in MODES:
        raise UserError(f"{name('structured', mode)}: expected one of {', '.join(MODES)}")
    return mode


@dataclass
class _Learned:
    refused: set[str] = field(default_factory=set)  # forms this model's server refused
    accepted: set[str] = field(default_factory=set)  # forms it answered without refusing


_MEMORY: weakref.WeakKeyDictionary[Backend, _Learned] = weakref.WeakKeyDictionary()


def _form(fmt: dict[str, Any] | None) -> str:
    return "none" if fmt is None else str(fmt.get("type"))


def refused(result: CallResult) -> bool:
    """The server turned the request down because of its response_format: HTTP 400 or 422, or an
    error that names it (llama-cpp-python's server answers a form it does not know with HTTP 500)."""
    if result.ok or result.status is None:
        return False
    if is_context_overflow(result.error, result.status):  # too long, whatever its format
        return False
    return result.status in REFUSAL_STATUS or "response_format" in (result.error or "")


def is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):  # malformed, a number of over 4,300 digits, nested too deep
        return False


class StructuredOutput:
    """Sends a batch of requests with the schema in the form the model accepts (see module doc)."""

    def __init__(self, mode: str, name: str, schema: dict[str, Any]) -> None:
        self.mode = check_mode(mode)
        self.schema = schema
        forms: list[dict[str, Any] | None] = []
        if mode != "off":
            forms += [json_schema_format(name, schema), json_object_format(schema)]
        if mode != "on":
            forms.append(None)
        self.forms = forms
        self.refusals = 0  # calls a server refused because of their response_format
        self.ignored = 0  # probe replies showing the server took a form but did not apply it
        self.unstructured = 0  # calls sent without one after the server refused every form

    def candidates(self, backend: Backend) -> list[dict[str, Any] | None]:
        learned = _MEMORY.get(backend)
        if learned is None:
            return list(self.forms)
        left = [f for f in self.forms if _form(f) not in learned.refused]
        return left or self.forms[-1:]

    async def map(
        self,
        scheduler: Scheduler,
        backend: Backend,
        count: int,
        build: Callable[[int, dict[str, Any] | None], ModelRequest],
        *,
        stage: str,
        usable: Callable[[int, str], bool] | None = None,
    ) -> list[tuple[CallResult, dict[str, Any] | None]]:
        """`count` calls, request i built by `build(i, response_format)`; each result with the
        response_format it was answered under. `usable(i, text)` says whether a reply to request i
        can be read (default: it is a JSON object); it only decides what a probe learns."""
        usable = usable or (lambda _i, text: is_json_object(text))
        results: list[tuple[CallResult, dict[str, Any] | None] | None] = [None] * count
        todo = list(range(count))
        learned = _MEMORY.setdefault(backend, _Learned())
        while todo:
            forms = self.candidates(backend)
            fmt = forms[0]
            last = len(forms) == 1
            probe = not last and fmt is not None and _form(fmt) not in learned.accepted
            batch = todo[:1] if probe else todo
            answers = await scheduler.map(backend, [build(i, fmt) for i in batch], stage=stage)
            if probe and answers[0].ok and not usable(batch[0], answers[0].text):
                self.ignored += 1  # accepted but not applied: this form does nothing on this server
                learned.refused.add(_form(fmt))
                continue
            refusals = [i for i, r in zip(batch, answers, strict=True) if fmt is not None and refused(r)]
            self.refusals += len(refusals)
            if fmt is None:
                self.unstructured += len(batch)
            if len(refusals) < len(batch):
                learned.accepted.add(_form(fmt))
            for i, answer in zip(batch, answers, strict=True):
                if i not in refusals or last:
                    results[i] = (answer, fmt)
            if refusals and not last:
                learned.refused.add(_form(fmt))
            todo = [i for i in todo if results[i] is None]
        return [r for r in results if r is not None]

    def report(self) -> dict[str, int]:
        out: dict[str, int] = {}
        if self.refusals:
            out["structured_refused"] = self.refusals
        if self.ignored:
            out["structured_ignored"] = self.ignored
        if self.unstructured and self.mode != "off":
            out["structured_fallback_calls"] = self.unstructured
        return out
