"""Collect every model's answers to every prompt, through the scheduler (so reruns are free).

A prompt with follow-up turns (MT-bench) is one conversation: turn 1 is asked, then turn 2 with
the model's *own* turn-1 answer as history, and so on. Each turn is an `Item` of its own, keyed
`ID` for turn 1 and `ID#tN` for turn N, and is compared on its own.

The request's `prompt_id` is the prompt's file id (for a ShareGPT turn, its conversation's id),
so `replay:` files are matched by id and turn. An answer that cannot be had (no recorded answer,
a call that failed after its retries) is `None` with the reason: a missing answer, never "".
A reply that is not an answer (empty or null content, a content-filter stop) is `None` too, with
its `outcome` ("empty" or "filtered"): counted apart from missing answers, never judged.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from distillscope.engine.scheduler import CallResult, Scheduler
from distillscope.models.base import Backend
from distillscope.models.types import GenerateParams, Message, ModelRequest, ModelResponse
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


_TURN_SUFFIX = re.compile(r"#t\d+\Z")


def prompt_of(key: str) -> str:
    """The prompt (conversation) a turn's key belongs to: `turn_key`'s inverse, which ShareGPT's
    later human turns share too. A conversation's turns are not independent answers, so intervals
    resample them together."""
    return _TURN_SUFFIX.sub("", key)


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
    outcome: str = "ok"  # "ok", "missing", or "empty" / "filtered" (a reply that is not an answer)
    request: ModelRequest | None = None  # what was asked (None: not asked, an earlier turn failed)
    response: ModelResponse | None = None  # the reply, also when it is not an answer (empty, filtered)

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
            "outcome": self.outcome,
        }


@dataclass
class ModelAnswers:
    """One model's answers, by (dataset, item key)."""

    name: str
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)

    def text(self, ref: tuple[str, str]) -> str | None:
        answer = self.answers.get(ref)
        return answer.text if answer is not None else None

    def not_answers(self) -> dict[str, Any]:
        """{"empty": n, "filtered": n, "ids": {outcome: [dataset/key, ...]}} for results.json."""
        ids: dict[str, list[str]] = {"empty": [], "filtered": []}
        for answer in self.answers.values():
            if answer.outcome in ids:
                ids[answer.outcome].append(f"{answer.item.dataset}/{answer.item.key}")
        return {"empty": len(ids["empty"]), "filtered": len(ids["filtered"]), "ids": ids}

    def missing(self) -> dict[str, Any]:
        """{"count", "ids": {dataset: [keys]}, "reasons": {first reasons}} for results.json."""
        ids: dict[str, list[str]] = {}
        reasons: dict[str, int] = {}
        for answer in self.answers.values():
            if answer.text is None and answer.outcome == "missing":
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


def turn_request(item: Item, history: tuple[Message, ...], params: GenerateParams) -> ModelRequest:
    prompt = item.prompt
    messages = prompt.messages if item.turn == 1 else (*history, Message(role="user", content=item.text))
    return ModelRequest(messages=messages, params=params, prompt_id=prompt.meta.get("source_id", prompt.id))


def planned_requests(prompts: Sequence[Prompt], params: GenerateParams) -> list[tuple[Item, ModelRequest]]:
    """Every request `collect_answers` would send, before any answer exists: a follow-up turn
    carries a blank placeholder for the model's earlier answers. Enough to find a prompt that a
    replay file has no answer for (replay matches by id, turn and first user text, never by the
    earlier answers), before any model is called."""
    out: list[tuple[Item, ModelRequest]] = []
    for prompt in prompts:
        history: tuple[Message, ...] = ()
        for turn in range(1, len(prompt.followups) + 2):
            item = Item(prompt.dataset, turn_key(prompt.id, turn), prompt, turn)
            request = turn_request(item, history, params)
            out.append((item, request))
            history = (*request.messages, Message(role="assistant", content=""))
    return out


# Answers a batch of one turn's requests (the turn number, the requests): by calling the model
# (`collect_answers`), or by reading what the ledger already holds (`models answer` after a budget stop).
TurnResolver = Callable[[int, list[ModelRequest]], Awaitable[list[CallResult]]]
EARLIER_TURN_MISSING = "earlier turn has no answer"


async def walk_turns(
    prompts: Sequence[Prompt],
    params: GenerateParams,
    resolve: TurnResolver,
    *,
    name: str,
    after_missing: str = EARLIER_TURN_MISSING,
) -> ModelAnswers:
    """Every turn of every prompt, turn by turn: turn N is asked after the answer `resolve` gave to
    turn N-1, and a turn whose earlier turn has no answer is missing (`after_missing` its error).
    The one walk of turns (keys, history, requests), whoever answers them."""
    out = ModelAnswers(name)
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
                out.answers[item.ref] = Answer(item, None, error=after_missing, outcome="missing")
                continue
            request = turn_request(item, history.get(index, ()), params)
            todo.append((index, item, request))
        if not todo:
            continue
        results = await resolve(turn, [r for _, _, r in todo])
        for (index, item, request), result in zip(todo, results, strict=True):
            if result.answered:
                out.answers[item.ref] = Answer(
                    item,
                    result.text,
                    cached=result.cached,
                    ledger_key=result.key,
                    request=request,
                    response=result.response,
                )
                history[index] = (*request.messages, Message(role="assistant", content=result.text))
            elif result.ok:  # an empty or filtered reply: recorded, not an answer, no follow-up turn
                out.answers[item.ref] = Answer(
                    item,
                    None,
                    cached=result.cached,
                    ledger_key=result.key,
                    outcome=result.outcome,
                    request=request,
                    response=result.response,
                )
                history.pop(index, None)
            else:
                out.answers[item.ref] = Answer(
                    item, None, error=result.error, ledger_key=result.key, outcome="missing", request=request
                )
                history.pop(index, None)
    return out


async def collect_answers(
    scheduler: Scheduler,
    backend: Backend,
    prompts: Sequence[Prompt],
    *,
    params: GenerateParams,
    name: str | None = None,
    stage: str = "rse answers",
) -> ModelAnswers:
    """Answers of one model to every turn of every prompt (follow-ups after its own answers)."""
    shown = name or backend.name

    async def ask(turn: int, requests: list[ModelRequest]) -> list[CallResult]:
        label = f"{stage}: {shown}" + (f" (turn {turn})" if turn > 1 else "")
        return await scheduler.map(backend, requests, stage=label)

    return await walk_turns(prompts, params, ask, name=shown)
