"""`models answer` results: how many prompts a model answered (the answers are in responses.jsonl)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from distillscope.results.base import Model, Result
from distillscope.results.registry import register


class FailedPrompt(Model):
    id: str
    error: str | None = None


@register
class AnswersResult(Result):
    kind: Literal["answers"] = "answers"
    model: str
    n_prompts: int
    n_answered: int
    n_empty: int = 0  # answered with nothing (an empty or null completion)
    n_filtered: int = 0  # stopped by the provider's content filter
    failed: list[FailedPrompt] = Field(default_factory=list)

    def to_frame(self) -> Any:
        """One row per answered prompt (`id`, `prompt`, `response`, `finish_reason`, `ledger_key`)."""
        from distillscope.results.frames import jsonl_frame

        return jsonl_frame(self._path, "responses.jsonl")
