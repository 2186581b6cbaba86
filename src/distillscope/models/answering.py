"""`models answer`: record a model's answers to a prompt file, through the ledger.

DIR/responses.jsonl  the answered prompts (replay them with replay:DIR/responses.jsonl)
DIR/results.json     an AnswersResult: how many were answered, which failed and why

A file with a `prompt` column (or plain text, one prompt a line) is read as it always was: one row
per prompt, `id` (or `uid`) from the file or `line-N`. Every other format `rse run --dataset` reads (MT-bench,
ShareGPT, NuminaMath, `messages` rows, ...) is read by the RSE dataset readers and asked as `rse run`
asks it (`rse.responses.collect_answers`): a later turn after the model's own answer to the turn
before. Each turn is a row with the conversation sent (`messages`), the conversation's `id` and its
`turn`, which is what the replay backend matches, so `rse run` replays the file with no call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distillscope.engine.ledger import request_key
from distillscope.engine.run import RunContext, write_jsonl
from distillscope.engine.scheduler import CallResult
from distillscope.errors import BudgetExhausted, UserError, clip
from distillscope.models.base import Backend
from distillscope.models.types import GenerateParams, ModelRequest
from distillscope.naming import Naming, flag
from distillscope.records import KNOWN_SUFFIXES, Record, read_records, read_text
from distillscope.results.answers import AnswersResult

if TYPE_CHECKING:
    from distillscope.rse.responses import Answer
    from distillscope.rse.types import Prompt

PLAIN = "plain"  # the format of a file `read_prompt_file` reads: a `prompt` column, or plain text
BUDGET_STOP = "not sent: budget reached"


@dataclass
class AnswerSettings:
    """Every flag of `models answer` but the run-wide ones."""

    model: str
    prompts: str
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    sharegpt_turns: str = "first"

    def input_files(self) -> dict[str, Path]:
        """The files this run reads, by setting (`RunOptions.inputs`): the prompts, a `replay:` model's answers."""
        files = {"prompts": Path(self.prompts).expanduser()}
        kind, sep, rest = self.model.partition(":")
        if sep and kind == "replay" and rest:
            files["model"] = Path(rest).expanduser()
        return files

    def validate(self, name: Naming = flag) -> None:
        """The checks `rse run` makes of the same flags, before the run directory is opened: the
        Python API raised pydantic's ValidationError from `GenerateParams` for `temperature=-1`.
        An error names the setting as `name` does (the CLI's flag, the API's keyword)."""
        if self.max_tokens is not None and self.max_tokens < 1:
            raise UserError(f"{name('max_tokens')} must be at least 1, got {self.max_tokens}")
        if self.temperature is not None and not self.temperature >= 0:  # (nan is not)
            raise UserError(f"{name('temperature')} must be at least 0, got {self.temperature}")


@dataclass
class PromptFile:
    """A prompt file as `models answer` reads it: `pairs` (id, prompt) for the plain formats
    (`format` "plain"), else `prompts` as `rse run --dataset` reads them, follow-up turns included."""

    format: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)


ID_KEYS = ("id", "uid")  # a prompt's own id, first found (Arena-Hard's question files have `uid`)


def read_prompt_file(path: Path) -> list[tuple[str, str]]:
    """(id, prompt) pairs from a record file (JSONL, JSON array, CSV, YAML, Parquet: `prompt`,
    optional `id` or `uid`; a JSON array of strings is a list of prompts) or plain text (one prompt a line)."""
    if path.suffix.lower() in KNOWN_SUFFIXES:
        return _pairs(_plain_records(path))
    return _text_pairs(path)


def _plain_records(path: Path) -> list[Record]:
    return read_records(path, list_keys=("prompts", "data"), scalar_key="prompt")


def _pairs(records: list[Record]) -> list[tuple[str, str]]:
    from distillscope.rse.datasets import row_id

    pairs = []
    seen: set[str] = set()
    for record in records:
        prompt = record.data.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise record.error("missing or empty text", field="prompt")
        # Arena-Hard's `uid` is the id `rse run` gives its prompts: a file of answers keeps it, read
        # as `rse run` reads it (a blank `id` is none, 3.0 is "3"), so a replay never matches an
        # answer to another prompt's id
        pid = row_id(record.data, ID_KEYS, where=record.where) or f"line-{record.line or record.index + 1}"
        if pid in seen:
            raise record.error(f"duplicate id '{clip(pid)}'", field="id")
        seen.add(pid)
        pairs.append((pid, prompt))
    return pairs


def _text_pairs(path: Path) -> list[tuple[str, str]]:
    lines = read_text(path).splitlines()
    pairs = [(f"line-{i}", text) for i, text in enumerate(lines, start=1) if text.strip()]
    if not pairs:
        raise UserError(f"{path}: no prompts in file")
    return pairs


def load_prompt_file(path: Path, *, sharegpt_turns: str = "first", name: Naming = flag) -> PromptFile:
    """A prompt file in any format `models answer` takes: a file whose first record has `prompt`
    (or plain text) as `read_prompt_file` reads it, else by the RSE dataset readers (the format
    told from the first record; `sharegpt_turns` as `rse run --sharegpt-turns`)."""
    from distillscope.rse.datasets import SHAREGPT_TURNS, Row, detect_format, load_dataset

    turns = next((t for t in SHAREGPT_TURNS if t == sharegpt_turns), None)
    if turns is None:
        raise UserError(f"{name('sharegpt_turns')} must be 'first' or 'all', got '{sharegpt_turns}'")
    if path.suffix.lower() not in KNOWN_SUFFIXES:
        return PromptFile(PLAIN, pairs=_text_pairs(path))
    records = _plain_records(path)  # an empty or unreadable file: the same error as always
    first = records[0]
    if "prompt" in first.data:
        return PromptFile(PLAIN, pairs=_pairs(records))
    try:
        detect_format(Row(first.where, first.line, first.data))
    except UserError:
        shown = ", ".join(sorted(first.data)[:8]) or "none"
        raise first.error(
            f"missing, and no other prompt format either: no 'turns', 'conversations', 'messages' or "
            f"'problem' (columns: {shown})",
            field="prompt",
        ) from None
    dataset = load_dataset("prompts", str(path), sharegpt_turns=turns)
    return PromptFile(dataset.format, prompts=dataset.prompts)


def _answered_so_far(ctx: RunContext, backend: Backend, requests: list[ModelRequest]) -> list[CallResult]:
    """After a budget stop: the calls that did finish, read back from the ledger, in order."""
    identity = backend.ledger_identity()
    keys = [request_key(identity, backend.prepare(r)) for r in requests]
    found = ctx.ledger.answers(keys)
    return [
        CallResult(key, found[key].response, cached=True)
        if key in found
        else CallResult(key, None, error=BUDGET_STOP)
        for key in keys
    ]


async def answer_prompts(ctx: RunContext, s: AnswerSettings) -> AnswersResult:
    """The model answers every prompt (every turn of a multi-turn one); writes responses.jsonl and
    results.json in `ctx.out`.

    A budget stop keeps what finished (`complete` False); a model that answered nothing at all is a
    setup problem and raises `UserError` after writing what it has."""
    prompt_file = load_prompt_file(Path(s.prompts), sharegpt_turns=s.sharegpt_turns, name=ctx.options.naming)
    params = GenerateParams(temperature=s.temperature, max_tokens=s.max_tokens, seed=s.seed)
    backend = ctx.model(s.model, system_prompt=s.system_prompt, params=params)
    config: dict[str, Any] = {"prompts": str(s.prompts), "system_prompt": s.system_prompt}
    if prompt_file.format != PLAIN:  # (a plain file's config is as it always was: a rerun resumes)
        config["format"] = prompt_file.format
        if prompt_file.format == "sharegpt":
            config["sharegpt_turns"] = s.sharegpt_turns
    ctx.write_config(config)
    stop: str | None = None
    if prompt_file.format == PLAIN:
        items = prompt_file.pairs
        requests = [ModelRequest.user(text, prompt_id=pid) for pid, text in items]
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
    else:
        rows, stop = await _answer_turns(ctx, backend, prompt_file.prompts)
    write_jsonl(ctx.out / "responses.jsonl", [r for r in rows if r["response"] is not None])
    failed = [r for r in rows if r["response"] is None]
    settings: dict[str, Any] = {
        "system_prompt": s.system_prompt,
        "params": params.model_dump(exclude_none=True),
    }
    if prompt_file.format != PLAIN:
        settings.update({k: config[k] for k in ("format", "sharegpt_turns") if k in config})
    ctx.cut_answers()  # written as cut: say so (answers results hold no warnings)
    result = AnswersResult.model_validate(
        {
            "model": backend.name,
            "complete": stop is None and not failed,
            "stop_reason": stop,
            "n_prompts": len(rows),
            "n_answered": len(rows) - len(failed),
            "n_empty": sum(r["outcome"] == "empty" for r in rows),
            "n_filtered": sum(r["outcome"] == "filtered" for r in rows),
            "failed": [{"id": r.get("prompt_id", r["id"]), "error": r["error"]} for r in failed],
            "settings": settings,
            "run": ctx.run_summary(),
        }
    )
    result.write(ctx.out)
    if rows and len(failed) == len(rows):  # nothing answered: a setup problem, not a result
        raise UserError(
            f"model '{backend.name}': all {len(rows)} calls failed, first error: {failed[0]['error']}"
        )
    return result


async def _answer_turns(
    ctx: RunContext, backend: Backend, prompts: list[Prompt]
) -> tuple[list[dict[str, Any]], str | None]:
    """Every turn of every prompt, asked as `rse run` asks them; (rows, stop reason)."""
    from distillscope.rse.responses import collect_answers, items_of

    stop: str | None = None
    try:
        found = await collect_answers(
            ctx.scheduler, backend, prompts, params=GenerateParams(), name=backend.name, stage="answers"
        )
        answers = [found.answers[item.ref] for item in items_of(prompts)]
    except BudgetExhausted as exc:
        stop = f"stopped: {exc}; rerun with a larger budget to finish (finished calls are kept)"
        answers = await _turns_so_far(ctx, backend, prompts)
    return [_turn_row(a) for a in answers], stop


def _turn_row(answer: Answer) -> dict[str, Any]:
    """A line of responses.jsonl for one turn: `id` the conversation's (what the request carried),
    `turn` its user messages, `messages` the conversation sent; replay matches (`id`, `turn`)."""
    request, response = answer.request, answer.response
    messages = request.messages if request is not None else ()
    prompt = answer.item.prompt
    return {
        "id": request.prompt_id if request is not None else prompt.meta.get("source_id", prompt.id),
        "turn": sum(m.role == "user" for m in messages) if request is not None else None,
        "prompt_id": answer.item.key,  # the turn's id in `rse run` (ID, ID#t2, ...)
        "prompt": answer.item.text,
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "response": response.text if response is not None else None,
        "error": answer.error,
        "finish_reason": response.finish_reason if response is not None else None,
        "outcome": "error" if response is None else response.outcome,
        "ledger_key": answer.ledger_key,
    }


async def _turns_so_far(ctx: RunContext, backend: Backend, prompts: list[Prompt]) -> list[Answer]:
    """After a budget stop: the turns whose calls did finish, read back from the ledger, in order
    (the walk of `collect_answers`, each turn looked up instead of asked)."""
    from distillscope.rse.responses import items_of, walk_turns

    async def recorded(_turn: int, requests: list[ModelRequest]) -> list[CallResult]:
        return _answered_so_far(ctx, backend, requests)

    found = await walk_turns(
        prompts, GenerateParams(), recorded, name=backend.name, after_missing=BUDGET_STOP
    )
    return [found.answers[item.ref] for item in items_of(prompts)]
