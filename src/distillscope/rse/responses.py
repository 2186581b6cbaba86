"""Collect every model's answers to every prompt, through the scheduler (so reruns are free).

A prompt with follow-up turns (MT-bench) is one conversation: turn 1 is asked, then turn 2 with
the model's *own* turn-1 answer as history, and so on. Each turn is an `Item` of its own, keyed
`ID` for turn 1 and `ID#tN` for turn N, and is compared on its own.

The request's `prompt_id` is the prompt's file id (for a ShareGPT turn, its conversation's id),
so `replay:` files are matched by id and turn. An answer that cannot be had (no recorded answer,
a call that failed after its retries) is `None` with the reason: a missing answer, never "".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from distillscope.engine.scheduler import Scheduler
from distillscope.models.base import Backend
from distillscope.models.types import GenerateParams, Message, ModelRequest
from distillscope.rse.types import Prompt


@dataclass(frozen=True)
class Item:
    """One answer to compare: a prompt at one turn."""

    dataset: str
    key: str
    prompt: Prompt
    turn: int = 1

    @property
    def text(self) -> str:
        """The user text asked at this turn."""
        return self.prompt.text if self.turn == 1 else self.prompt.followups[self.turn - 2]

    @property
    def ref(self) -> tuple[str, str]:
        return (self.dataset, self.key)


def turn_key(prompt_id: str, turn: int) -> str:
    return prompt_id if turn == 1 else f"{prompt_id}#t{turn}"


def items_of(prompts: Sequence[Prompt]) -> list[Item]:
    """Every turn of every prompt, in order."""
    items: list[Item] = []
    for prompt in prompts:
        for turn in range(1, len(prompt.followups) + 2):
            items.append(Item(prompt.dataset, turn_key(prompt.id, turn), prompt, turn))
    return items


@dataclass
class Answer:
    item: Item
    text: str | None
    error: str | None = None
    cached: bool = False
    ledger_key: str | None = None

    def row(self, model: str, role: str) -> dict[str, Any]:
        """A line of responses.jsonl."""
        prompt = self.item.prompt
        return {
            "model": model,
            "role": role,
            "dataset": self.item.dataset,
            "prompt_id": self.item.key,
            "source_id": prompt.meta.get("source_id", prompt.id),
            "turn": self.item.turn,
            "prompt": self.item.text,
            "response": self.text,
            "error": self.error,
            "cached": self.cached,
            "ledger_key": self.ledger_key,
        }


@dataclass
class ModelAnswers:
    """One model's answers, by (dataset, item key)."""

    name: str
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)

    def text(self, ref: tuple[str, str]) -> str | None:
        answer = self.answers.get(ref)
        return answer.text if answer is not None else None

    def missing(self) -> dict[str, Any]:
        """{"count", "ids": {dataset: [keys]}, "reasons": {first reasons}} for results.json."""
        ids: dict[str, list[str]] = {}
        reasons: dict[str, int] = {}
        for answer in self.answers.values():
            if answer.text is None:
                ids.setdefault(answer.item.dataset, []).append(answer.item.key)
                reason = _reason(answer.error)
                reasons[reason] = reasons.get(reason, 0) + 1
        return {"count": sum(len(v) for v in ids.values()), "ids": ids, "reasons": reasons}


def _reason(error: str | None) -> str:
    if not error:
        return "unknown"
    if "no recorded answer" in error:
        return "no recorded answer"
    if "earlier turn" in error:
        return "earlier turn has no answer"
    return error.split(" (after", 1)[0][:120]


def _request(item: Item, history: tuple[Message, ...], params: GenerateParams) -> ModelRequest:
    prompt = item.prompt
    messages = prompt.messages if item.turn == 1 else (*history, Message(role="user", content=item.text))
    return ModelRequest(messages=messages, params=params, prompt_id=prompt.meta.get("source_id", prompt.id))


async def collect_answers(
    scheduler: Scheduler,
    backend: Backend,
    prompts: Sequence[Prompt],
    *,
    params: GenerateParams,
    name: str | None = None,
) -> ModelAnswers:
    """Answers of one model to every turn of every prompt (follow-ups after its own answers)."""
    out = ModelAnswers(name or backend.name)
    # history[i] = the conversation so far for prompt i, including this model's last answer
    history: dict[int, tuple[Message, ...]] = {}
    depth = max((len(p.followups) for p in prompts), default=0) + 1
    for turn in range(1, depth + 1):
        todo: list[tuple[int, Item, ModelRequest]] = []
        for index, prompt in enumerate(prompts):
            if turn > len(prompt.followups) + 1:
                continue
            item = Item(prompt.dataset, turn_key(prompt.id, turn), prompt, turn)
            if turn > 1 and index not in history:
                out.answers[item.ref] = Answer(item, None, error="earlier turn has no answer")
                continue
            request = _request(item, history.get(index, ()), params)
            todo.append((index, item, request))
        if not todo:
            continue
        stage = f"rse answers: {out.name}" + (f" (turn {turn})" if turn > 1 else "")
        results = await scheduler.map(backend, [r for _, _, r in todo], stage=stage)
        for (index, item, request), result in zip(todo, results, strict=True):
            if result.ok:
                out.answers[item.ref] = Answer(item, result.text, cached=result.cached, ledger_key=result.key)
                history[index] = (*request.messages, Message(role="assistant", content=result.text))
            else:
                out.answers[item.ref] = Answer(item, None, error=result.error, ledger_key=result.key)
                history.pop(index, None)
    return out
