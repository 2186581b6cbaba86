"""`models answer`: record a model's answers to a prompt file, through the ledger.

DIR/responses.jsonl  the answered prompts (replay them with replay:DIR/responses.jsonl)
DIR/results.json     an AnswersResult: how many were answered, which failed and why
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from distillscope.engine.ledger import request_key
from distillscope.engine.run import RunContext, write_jsonl
from distillscope.engine.scheduler import CallResult
from distillscope.errors import BudgetExhausted, UserError
from distillscope.models.base import Backend
from distillscope.models.types import GenerateParams, ModelRequest
from distillscope.records import KNOWN_SUFFIXES, read_records, read_text
from distillscope.results.answers import AnswersResult


@dataclass
class AnswerSettings:
    """Every flag of `models answer` but the run-wide ones."""

    model: str
    prompts: str
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None


def read_prompt_file(path: Path) -> list[tuple[str, str]]:
    """(id, prompt) pairs from a record file (JSONL, JSON array, CSV, YAML, Parquet: `prompt`,
    optional `id`; a JSON array of strings is a list of prompts) or plain text (one prompt a line)."""
    if path.suffix.lower() in KNOWN_SUFFIXES:
        pairs = []
        seen: set[str] = set()
        for record in read_records(path, list_keys=("prompts", "data"), scalar_key="prompt"):
            prompt = record.data.get("prompt")
            if not isinstance(prompt, str) or not prompt.strip():
                raise record.error("missing or empty text", field="prompt")
            raw_id = record.data.get("id")
            pid = str(raw_id) if raw_id not in (None, "") else f"line-{record.line or record.index + 1}"
            if pid in seen:
                raise record.error(f"duplicate id '{pid}'", field="id")
            seen.add(pid)
            pairs.append((pid, prompt))
        return pairs
    lines = read_text(path).splitlines()
    pairs = [(f"line-{i}", text) for i, text in enumerate(lines, start=1) if text.strip()]
    if not pairs:
        raise UserError(f"{path}: no prompts in file")
    return pairs


def _answered_so_far(ctx: RunContext, backend: Backend, requests: list[ModelRequest]) -> list[CallResult]:
    """After a budget stop: the calls that did finish, read back from the ledger, in order."""
    identity = backend.ledger_identity()
    keys = [request_key(identity, backend.prepare(r)) for r in requests]
    found = ctx.ledger.answers(keys)
    return [
        CallResult(key, found[key].response, cached=True)
        if key in found
        else CallResult(key, None, error="not sent: budget reached")
        for key in keys
    ]


async def answer_prompts(ctx: RunContext, s: AnswerSettings) -> AnswersResult:
    """The model answers every prompt; writes responses.jsonl and results.json in `ctx.out`.

    A budget stop keeps what finished (`complete` False); a model that answered nothing at all is a
    setup problem and raises `UserError` after writing what it has."""
    items = read_prompt_file(Path(s.prompts))
    params = GenerateParams(temperature=s.temperature, max_tokens=s.max_tokens, seed=s.seed)
    backend = ctx.model(s.model, system_prompt=s.system_prompt, params=params)
    ctx.write_config({"prompts": str(s.prompts), "system_prompt": s.system_prompt})
    requests = [ModelRequest.user(text, prompt_id=pid) for pid, text in items]
    stop: str | None = None
    try:
        results = await ctx.scheduler.map(backend, requests, stage=f"answers: {backend.name}")
    except BudgetExhausted as exc:
        stop = f"stopped: {exc}; rerun with a larger budget to finish (finished calls are kept)"
        results = _answered_so_far(ctx, backend, requests)
    rows = [
        {
            "id": pid,
            "prompt": text,
            "response": r.response.text if r.response else None,
            "error": r.error,
            "finish_reason": r.response.finish_reason if r.response else None,
            "outcome": r.outcome,
            "ledger_key": r.key,
        }
        for (pid, text), r in zip(items, results, strict=False)
    ]
    write_jsonl(ctx.out / "responses.jsonl", [r for r in rows if r["response"] is not None])
    failed = [r for r in rows if r["response"] is None]
    result = AnswersResult.model_validate(
        {
            "model": backend.name,
            "complete": stop is None and not failed,
            "stop_reason": stop,
            "n_prompts": len(items),
            "n_answered": len(rows) - len(failed),
            "n_empty": sum(r["outcome"] == "empty" for r in rows),
            "n_filtered": sum(r["outcome"] == "filtered" for r in rows),
            "failed": [{"id": r["id"], "error": r["error"]} for r in failed],
            "settings": {"system_prompt": s.system_prompt, "params": params.model_dump(exclude_none=True)},
            "run": ctx.run_summary(),
        }
    )
    result.write(ctx.out)
    if rows and len(failed) == len(rows):  # nothing answered: a setup problem, not a result
        raise UserError(
            f"model '{backend.name}': all {len(rows)} calls failed, first error: {failed[0]['error']}"
        )
    return result
