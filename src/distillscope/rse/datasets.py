"""Prompt sets for RSE: read a file (or the built-in examples), detect its format, give every
prompt a stable id, and sample with a seed.

Formats, detected from the columns of the first row:

    conversations (from/value)      ShareGPT (JSON list or JSONL); `sharegpt_turns` = "first" asks
                                    the conversation up to its first human turn, "all" asks every
                                    human turn with the recorded history before it
    turns (+ question_id)           MT-bench / Arena-Hard v0.1: turn 1 is asked, later turns are
                                    asked after the model's *own* answer (`Prompt.followups`)
    uid + prompt                    Arena-Hard questions
    problem (+ solution)            NuminaMath (the solution is never sent)
    messages                        generic chat rows (a trailing assistant turn is dropped)
    prompt                          generic rows (JSONL, JSON list, CSV, TSV, Parquet)

Ids come from the row (`id`, `uid`, `question_id`, `prompt_id`), else from a hash of the row's
content, never from its position: sampling or reordering a file keeps every id. Two rows with
the same id (or the same content and no id) are an error naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from distillscope import jsonsafe
from distillscope.errors import UserError, clip
from distillscope.models.types import Message
from distillscope.naming import Naming, flag
from distillscope.records import check_depth, check_file, read_records
from distillscope.rse.types import Prompt

SharegptTurns = Literal["first", "all"]
SHAREGPT_TURNS: tuple[SharegptTurns, ...] = ("first", "all")
ID_FIELDS = ("id", "uid", "question_id", "prompt_id")
# The fields that hold lists: in CSV (and text columns of Parquet) they may be written as JSON text.
STRUCTURED_FIELDS = ("turns", "messages", "conversations")
BUILTIN = ("builtin", "examples", "builtin:examples")
HF_PREFIX = "hf:"
_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
}


@dataclass(frozen=True)
class Row:
    """One record of a file and where it came from (for error messages)."""

    where: str  # "path:line" or "path item 3"
    line: int | None
    data: dict[str, Any]


# -- reading files --------------------------------------------------------------------------------


def _read_rows(path: Path) -> list[Row]:
    """Records of a JSONL, JSON list, CSV/TSV, YAML or Parquet file (`records.read_records`)."""
    check_file(path)
    table = path.suffix.lower() in (".csv", ".tsv", ".parquet", ".pq")
    rows = [
        Row(r.where, r.line, _cells(r.data) if table else r.data)
        for r in read_records(path, what="prompt file", list_keys=("data",))
    ]
    return rows


def _cells(data: dict[str, Any]) -> dict[str, Any]:
    """A table row's cells as plain Python. Only the columns that hold lists (`STRUCTURED_FIELDS`)
    may carry them as JSON text; every other cell is text as written, so a prompt that happens to
    be JSON (`{"task": "summarize"}`) is still that prompt."""
    return {k: _plain(v, parse_json=k in STRUCTURED_FIELDS) for k, v in data.items()}


def _plain(value: Any, *, parse_json: bool = False) -> Any:
    """numpy arrays / scalars from parquet -> plain Python; with `parse_json`, JSON text -> objects."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    if parse_json and isinstance(value, str) and value[:1] in "[{":
        try:
            parsed = jsonsafe.loads(value)  # out-of-range numbers (1e999, 10**30) are ValueErrors
            check_depth(parsed, "cell")
        except (ValueError, RecursionError, UserError):
            return value  # not JSON (or absurdly nested): the cell stays text
        return parsed
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- formats ----------------------------------------------------------------------------------------


def _err(row: Row, message: str, field: str | None = None) -> UserError:
    where = f"field '{field}': " if field else ""
    return UserError(f"{row.where}: {where}{message}")


def _text(row: Row, key: str) -> str:
    value = row.data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _err(row, "missing or empty text", key)
    return value


def _turn_text(row: Row, turn: Any) -> str:
    if isinstance(turn, dict):
        turn = turn.get("content")
    if not isinstance(turn, str) or not turn.strip():
        raise _err(row, "each turn must be non-empty text (or {'content': text})", "turns")
    return turn


def content_id(*parts: Any) -> str:
    """A stable id from content: the same text always gets the same id, wherever it sits."""
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return "h" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:15]


def _row_id(row: Row) -> str | None:
    return row_id(row.data, where=row.where)


def row_id(data: dict[str, Any], fields: Sequence[str] = ID_FIELDS, *, where: str) -> str | None:
    """A record's own id: the first of `fields` it gives (not blank; 3.0 is "3"), or None. An id
    that is a list, an object or true/false, or that holds a control character (NUL, a line break),
    is a `UserError` at `where` (the record's "path:line") and its field: `rse run` and `models
    answer` both read ids here, and answers are replayed by id, so neither may keep what the other
    refuses (a list was kept as Python's text of it, "[1, 2]")."""
    for key in fields:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool | list | tuple | dict):
            kind = (
                "true/false"
                if isinstance(value, bool)
                else "a list"
                if isinstance(value, list | tuple)
                else "an object"
            )
            raise UserError(f"{where}: field '{key}': expected an id (text or a number), got {kind}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value)
        bad = next((ch for ch in text if unicodedata.category(ch) == "Cc"), None)
        if bad is not None:
            raise UserError(
                f"{where}: field '{key}': an id may not hold a control character "
                f"(U+{ord(bad):04X}{', a line break' if bad in chr(10) + chr(13) else ''})"
            )
        return text
    return None


RowReader = Callable[[Row, str, "SharegptTurns"], list[Prompt]]


def _prompt(pid: str, dataset: str, messages: Sequence[Message], **meta: str) -> Prompt:
    return Prompt(
        id=pid, dataset=dataset, messages=tuple(messages), meta={k: v for k, v in meta.items() if v}
    )


def _from_turns(row: Row, dataset: str, _: SharegptTurns) -> list[Prompt]:
    turns = row.data.get("turns")
    if not isinstance(turns, list) or not turns:
        raise _err(row, "expected a non-empty list of turns", "turns")
    texts = [_turn_text(row, t) for t in turns]
    pid = _row_id(row) or content_id(texts)
    prompt = _prompt(
        pid, dataset, [Message(role="user", content=texts[0])], category=str(row.data.get("category") or "")
    )
    return [prompt.model_copy(update={"followups": tuple(texts[1:])})]


def _from_prompt(row: Row, dataset: str, _: SharegptTurns) -> list[Prompt]:
    text = _text(row, "prompt")
    system = row.data.get("system")
    messages = [Message(role="system", content=system)] if isinstance(system, str) and system.strip() else []
    messages.append(Message(role="user", content=text))
    pid = _row_id(row) or content_id([m.model_dump() for m in messages])
    return [
        _prompt(
            pid, dataset, messages, category=str(row.data.get("category") or row.data.get("cluster") or "")
        )
    ]


def _from_problem(row: Row, dataset: str, _: SharegptTurns) -> list[Prompt]:
    text = _text(row, "problem")
    pid = _row_id(row) or content_id(text)
    return [
        _prompt(pid, dataset, [Message(role="user", content=text)], source=str(row.data.get("source") or ""))
    ]


def _from_messages(row: Row, dataset: str, _: SharegptTurns) -> list[Prompt]:
    raw = row.data.get("messages")
    if not isinstance(raw, list) or not raw:
        raise _err(row, "expected a non-empty list of {role, content}", "messages")
    messages: list[Message] = []
    for item in raw:
        role = item.get("role") if isinstance(item, dict) else None
        content = item.get("content") if isinstance(item, dict) else None
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise _err(row, "each message needs role system|user|assistant and text content", "messages")
        messages.append(Message(role=role, content=content))
    while messages and messages[-1].role == "assistant":  # a recorded answer, not part of the question
        messages.pop()
    asked = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    if asked is None:
        raise _err(row, "no user message", "messages")
    if not messages[asked].content.strip():
        # the question itself: a model asked nothing answers anyway, and the answer was scored
        # (a `prompt`, `problem` or first human turn that is blank is refused the same way)
        raise _err(row, f"message {asked + 1}, the user's question, is empty text", "messages")
    pid = _row_id(row) or content_id([m.model_dump() for m in messages])
    return [_prompt(pid, dataset, messages)]


def _from_conversations(row: Row, dataset: str, turns: SharegptTurns) -> list[Prompt]:
    raw = row.data.get("conversations")
    if not isinstance(raw, list) or not raw:
        raise _err(row, "expected a non-empty list of {from, value}", "conversations")
    history: list[Message] = []
    for item in raw:
        speaker = item.get("from", item.get("role")) if isinstance(item, dict) else None
        value = item.get("value", item.get("content")) if isinstance(item, dict) else None
        role = _ROLES.get(str(speaker).lower()) if speaker is not None else None
        if role is None or not isinstance(value, str):
            raise _err(
                row,
                f"each turn needs 'from' (human|gpt|system) and text 'value', got from={speaker!r}",
                "conversations",
            )
        history.append(Message(role=role, content=value))  # type: ignore[arg-type]
    base = _row_id(row) or content_id([m.model_dump() for m in history])
    users = [i for i, m in enumerate(history) if m.role == "user"]
    if not users:
        raise _err(row, "no human turn", "conversations")
    start = users[0]
    lead = [m for m in history[:start] if m.role == "system"]  # a bot greeting before the user is not asked
    prompts: list[Prompt] = []
    for human, i in enumerate(users if turns == "all" else users[:1], start=1):
        if not history[i].content.strip():
            if human == 1:
                raise _err(row, "the first human turn is empty", "conversations")
            continue
        pid = base if human == 1 else f"{base}#t{human}"
        prompts.append(
            _prompt(pid, dataset, [*lead, *history[start : i + 1]], source_id=base, turn=str(human))
        )
    return prompts


def detect_format(row: Row) -> tuple[str, RowReader]:
    """The format of a file from the columns of its first record."""
    keys = row.data.keys()
    if "conversations" in keys:
        return "sharegpt", _from_conversations
    if "turns" in keys:
        turns = row.data.get("turns")
        return ("mt-bench" if isinstance(turns, list) and len(turns) > 1 else "arena-hard"), _from_turns
    if "problem" in keys:
        return "numinamath", _from_problem
    if "messages" in keys:
        return "messages", _from_messages
    if "prompt" in keys:
        return ("arena-hard" if "uid" in keys else "prompt"), _from_prompt
    shown = ", ".join(sorted(keys)[:8]) or "none"
    raise UserError(
        f"{row.where}: cannot tell the prompt format: no 'prompt', 'messages', 'conversations', 'turns' or "
        f"'problem' column (columns: {shown})"
    )


# -- public API -------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """A named prompt set and how it was read."""

    name: str
    source: str
    format: str
    prompts: list[Prompt]
    total: int  # prompts before sampling
    shared: dict[str, int] = field(default_factory=dict)  # earlier dataset -> its prompts left out here

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "source": self.source,
            "format": self.format,
            "prompts": len(self.prompts),
            "total": self.total,
        }
        if self.shared:
            summary["left_out_as_in"] = dict(self.shared)
        return summary

    def warning(self) -> str | None:
        """What the run should say when an earlier dataset took some of this one's prompts."""
        if not self.shared:
            return None
        return (
            f"dataset '{self.name}': {sum(self.shared.values())} of its prompts are also selected from an "
            f"earlier dataset ({self.shared_where()}); they are scored there only, so no prompt counts twice"
        )

    def shared_where(self) -> str:
        """Where this dataset's left-out prompts were selected: "2 in dataset 'a', 1 in dataset 'b'"."""
        return ", ".join(f"{n} in dataset '{owner}'" for owner, n in self.shared.items())


def read_prompts(
    rows: Iterable[Row], dataset: str, *, sharegpt_turns: SharegptTurns = "first"
) -> tuple[str, list[Prompt]]:
    """Rows -> prompts with unique ids (format from the first row)."""
    rows = list(rows)
    if not rows:
        raise UserError(f"dataset '{dataset}': no rows")
    fmt, reader = detect_format(rows[0])
    prompts: list[Prompt] = []
    seen: dict[str, str] = {}
    for row in rows:
        for prompt in reader(row, dataset, sharegpt_turns):
            if prompt.id in seen:
                origin = "id" if _row_id(row) is not None else "content (no id column; add one to keep both)"
                raise _err(
                    row, f"duplicate {origin} '{clip(prompt.id)}', first seen at {seen[prompt.id]}", "id"
                )
            seen[prompt.id] = row.where
            prompts.append(prompt)
    _check_turn_keys(prompts, seen)
    return fmt, prompts


def _check_turn_keys(prompts: Sequence[Prompt], where: dict[str, str]) -> None:
    """No prompt's id is the key of another prompt's later turn (`81#t2`, `responses.turn_key`):
    the two answers shared one key, so one was lost without a word (4 turns scored as 3), and the
    prompt was resampled with the other's conversation."""
    from distillscope.rse.responses import turn_key

    turns = {turn_key(p.id, n): (p.id, n) for p in prompts for n in range(2, len(p.followups) + 2)}
    for prompt in prompts:
        if prompt.id in turns:
            base, n = turns[prompt.id]
            raise UserError(
                f"{where[prompt.id]}: field 'id': '{clip(prompt.id)}' is also the name of turn {n} of "
                f"prompt '{clip(base)}' ({where[base]}); give this prompt another id"
            )


def builtin_rows() -> list[Row]:
    """The example prompts shipped with distillscope (written by this project)."""
    source = resources.files("distillscope.rse").joinpath("data/examples.yaml")
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    return [Row(f"builtin examples item {i}", None, dict(item)) for i, item in enumerate(data["prompts"])]


def builtin_answers() -> dict[str, str]:
    """Answers written by this project for the built-in prompts (a fixed 'model' for the demo)."""
    return {str(row.data["id"]): str(row.data["answer"]) for row in builtin_rows() if row.data.get("answer")}


def _hf_rows(spec: str) -> list[Row]:
    """`hf:NAME[:split]` through Hugging Face `datasets`, only when it is installed."""
    name, _, split = spec[len(HF_PREFIX) :].partition(":")
    if not name:
        raise UserError(f"dataset '{spec}': expected hf:NAME[:split]")
    try:
        import datasets as hf_datasets  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise UserError(
            f"dataset '{spec}': Hugging Face datasets is not installed (pip install 'distillscope[hf]')"
        ) from None
    try:
        table = hf_datasets.load_dataset(name, split=split or "train")
    except Exception as exc:  # network, missing dataset, bad split
        raise UserError(
            f"dataset '{spec}': cannot load: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    return [Row(f"{spec} row {i}", None, _cells(dict(r))) for i, r in enumerate(table)]


def load_dataset(
    name: str, source: str, *, sharegpt_turns: SharegptTurns = "first", base: Path | None = None
) -> Dataset:
    """`--dataset NAME=SOURCE`: SOURCE is a file, `builtin` (the examples) or `hf:NAME[:split]`."""
    if source in BUILTIN:
        rows, label = builtin_rows(), "builtin"
    elif source.startswith(HF_PREFIX):
        rows, label = _hf_rows(source), source
    else:
        path = Path(source).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        rows, label = _read_rows(path), str(path)
    fmt, prompts = read_prompts(rows, name, sharegpt_turns=sharegpt_turns)
    if not prompts:
        raise UserError(f"dataset '{name}' ({label}): no prompts")
    return Dataset(name=name, source=label, format=fmt, prompts=prompts, total=len(prompts))


def sample_prompts(prompts: Sequence[Prompt], n: int | None, seed: int) -> list[Prompt]:
    """`n` prompts chosen by a seeded hash of their ids, kept in file order.

    Depends only on the ids and the seed, not on file order, so a reordered file gives the same
    sample, and a larger sample contains every prompt of a smaller one.
    """
    if n is not None and n < 1:
        raise UserError(f"--sample must be at least 1, got {n}")
    if n is None or n >= len(prompts):
        return list(prompts)

    def rank(p: Prompt) -> str:
        return hashlib.sha256(f"{seed}\x1f{p.dataset}\x1f{p.id}".encode()).hexdigest()

    chosen = {p.id for p in sorted(prompts, key=rank)[:n]}
    return [p for p in prompts if p.id in chosen]


def load_datasets(
    specs: dict[str, str],
    *,
    sample: int | None = None,
    seed: int = 0,
    sharegpt_turns: SharegptTurns = "first",
    name: Naming = flag,
) -> list[Dataset]:
    """Every `--dataset NAME=SOURCE`, each sampled with the same seed. Two datasets holding the same
    prompts (one file by two paths or names, a copy, `builtin` twice) are refused: each prompt would
    be scored twice, and the average over datasets, its n and its interval would count it twice.
    A prompt that an earlier dataset already selected belongs to that one only (a warning and the
    dataset's summary say how many): otherwise it would be counted twice too, and attribution's
    cross-fitting could train on a prompt in one fold and score it in another."""
    if not specs:
        raise UserError(
            f"give at least one {name('datasets', 'NAME=PATH')} (or {name('datasets', 'examples=builtin')})"
        )
    out: list[Dataset] = []
    first: dict[str, Dataset] = {}  # the prompts' content -> the dataset that brought them first
    selected: dict[str, str] = {}  # what a selected prompt asks -> the dataset it was selected from
    for dataset_name, source in specs.items():
        dataset = load_dataset(dataset_name, source, sharegpt_turns=sharegpt_turns)
        twin = first.setdefault(prompts_digest(dataset.prompts), dataset)
        if twin is not dataset:
            raise UserError(
                f"{name('datasets', f'{dataset_name}={source}')}: the same {len(dataset.prompts)} prompts as "
                f"dataset '{twin.name}' ({twin.source}); each would be scored twice and counted twice in the "
                "average: give each prompt set once"
            )
        _drop_selected_earlier(dataset, selected, name("datasets", f"{dataset_name}={source}"))
        dataset.prompts = sample_prompts(dataset.prompts, sample, seed)
        selected.update((asked(p), dataset.name) for p in dataset.prompts)
        out.append(dataset)
    return out


def _drop_selected_earlier(dataset: Dataset, selected: dict[str, str], named: str) -> None:
    """Leave out of `dataset` the prompts an earlier dataset selected (`selected`: what a prompt
    asks -> that dataset), before it is sampled; refused when none is left."""
    earlier = [selected.get(asked(p)) for p in dataset.prompts]
    if not any(earlier):
        return
    dataset.shared = dict(Counter(owner for owner in earlier if owner is not None))
    if all(earlier):
        raise UserError(
            f"{named}: every one of its {len(earlier)} prompts is already selected from an earlier dataset "
            f"({dataset.shared_where()}); each would be scored twice: give each prompt once"
        )
    dataset.prompts = [p for p, owner in zip(dataset.prompts, earlier, strict=True) if owner is None]


def prompts_digest(prompts: Sequence[Prompt]) -> str:
    """What a dataset asks, whatever its ids, order or file: a hash of its prompts' conversations."""
    return hashlib.sha256("\n".join(sorted(asked(p) for p in prompts)).encode("utf-8")).hexdigest()


def asked(prompt: Prompt) -> str:
    """What a prompt asks, whatever its id or dataset: its conversation and follow-ups."""
    return json.dumps(
        [[[m.role, m.content] for m in prompt.messages], list(prompt.followups)], ensure_ascii=False
    )
