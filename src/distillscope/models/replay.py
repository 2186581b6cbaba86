"""Replay backend: answers from recorded responses, so a study can be re-scored without calling
any model.

Reads FastChat / Arena-Hard v0.1 answer files (`question_id`, `choices[0].turns`), Arena-Hard v2
answer files (`uid`, `messages` ending in the assistant's answer, its content text or
`{"answer": text}`), AlpacaEval outputs (`instruction`, `output`), the paper's attack logs
(`jailbreak_prompt`, `query`, `target_responses`), and generic JSONL with `prompt` or `messages`
plus `response`. A `messages` row answers its last user message: turn N of a conversation is a row
with N user messages (how `models answer` records MT-bench's second turn). Answers are matched by
prompt id and turn first, then by the first prompt text and turn. A prompt with no recorded answer
is an error that names it, never an empty string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distillscope.errors import BackendError, UserError, clip
from distillscope.ice.templates import fill_template
from distillscope.jsonl import read_jsonl
from distillscope.models.base import Backend, ModelConfig, register_backend
from distillscope.models.types import ModelRequest, ModelResponse


def normalise(text: str) -> str:
    return " ".join(text.split())


def _turn_text(turn: Any) -> str:
    if isinstance(turn, dict):
        turn = turn.get("content")
    if not isinstance(turn, str):
        raise TypeError("turn is not text")
    return turn


def _answer_text(content: Any) -> str | None:
    """An assistant message's text: plain, or Arena-Hard v2's `{"answer": text, ...}`."""
    if isinstance(content, dict):
        content = content.get("answer")
    return content if isinstance(content, str) else None


class ReplayIndex:
    """Recorded answers, by (prompt id, turn) and by (normalised first prompt, turn).

    A prompt id (or, in a file without ids, a prompt text) recorded twice with two different answers
    is an error at the second line: one of them was silently replayed (the last), whichever the
    file's order made it. The same answer twice is harmless and kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_id: dict[tuple[str, int], str] = {}
        self.by_text: dict[tuple[str, int], str] = {}
        self._lines: dict[tuple[str, str, int], int] = {}  # (table, key, turn) -> line first seen
        for number, row in read_jsonl(path):
            self._add(number, row)

    def _put(self, table: str, key: tuple[str, int], answer: str, number: int, field: str) -> None:
        """Record `answer` under `key` of `table` ("id" or "text"), refusing a different answer for
        a key already recorded."""
        answers = self.by_id if table == "id" else self.by_text
        first = self._lines.setdefault((table, *key), number)
        if key in answers and answers[key] != answer:
            what = f"id '{clip(key[0])}'" if table == "id" else f"prompt {clip(key[0])!r}"
            turn = f" (turn {key[1] + 1})" if key[1] else ""
            raise UserError.at(
                self.path,
                f"{what}{turn} has two different answers, here and at line {first}: "
                "keep one answer per prompt and turn (which one was replayed depended on the order)",
                line=number,
                field=field,
            )
        answers[key] = answer

    def _id(self, row: dict[str, Any], fields: tuple[str, ...], number: int) -> str | None:
        """A row's id as the prompt files' reader reads it (`rse.datasets.row_id`): `81.0` (a file
        written by pandas) is the prompt `81`. Read with `str()` it was "81.0", which matched no
        prompt: every answer of the file was missing. A list or true/false is refused at its field."""
        from distillscope.rse.datasets import row_id

        return row_id(row, fields, where=f"{self.path}:{number}")

    def _add(self, number: int, row: dict[str, Any]) -> None:
        if "choices" in row:  # FastChat / Arena-Hard
            qid = self._id(row, ("question_id", "uid"), number)
            if qid is None:
                raise UserError.at(
                    self.path, "answer has 'choices' but no 'question_id'", line=number, field="question_id"
                )
            try:
                recorded = row["choices"][0]["turns"]
                if not isinstance(recorded, list):  # a text was read letter by letter, one turn each
                    raise TypeError("turns is not a list")
                turns = [_turn_text(t) for t in recorded]
            except (KeyError, IndexError, TypeError):
                raise UserError.at(
                    self.path, "expected choices[0].turns as a list of answers", line=number, field="choices"
                ) from None
            for i, text in enumerate(turns):
                self._put("id", (qid, i), text, number, "question_id")
            return
        if "jailbreak_prompt" in row and "query" in row:  # the paper's attack logs
            answer = row.get("target_responses", row.get("response"))
            if isinstance(answer, list):
                answer = answer[0] if answer else None
            if not isinstance(answer, str):
                raise UserError.at(self.path, "no recorded answer", line=number, field="target_responses")
            full = fill_template(str(row["jailbreak_prompt"]), str(row["query"]))
            self.by_text[(normalise(full), 0)] = answer
            return
        if "instruction" in row and "output" in row:  # AlpacaEval model_outputs.json
            if not isinstance(row["instruction"], str) or not isinstance(row["output"], str):
                raise UserError.at(
                    self.path, "expected text 'instruction' and 'output'", line=number, field="output"
                )
            self._put("text", (normalise(row["instruction"]), 0), row["output"], number, "instruction")
            return
        if "response" not in row and isinstance(row.get("messages"), list):  # Arena-Hard v2
            self._add_conversation(number, row)
            return
        answer = row.get("response")
        if not isinstance(answer, str):
            raise UserError.at(self.path, "missing or non-text 'response'", line=number, field="response")
        turn = 0  # a row's turn: its user messages less one (an answer after the history it holds)
        if isinstance(row.get("messages"), list):
            users = [
                m.get("content", "")
                for m in row["messages"]
                if isinstance(m, dict) and m.get("role") == "user"
            ]
            if not users:
                raise UserError.at(self.path, "'messages' has no user turn", line=number, field="messages")
            turn = len(users) - 1
            self._put_text(row, (normalise(str(users[0])), turn), answer, number, "messages")
        elif isinstance(row.get("prompt"), str):
            self._put_text(row, (normalise(row["prompt"]), 0), answer, number, "prompt")
        elif "id" not in row:
            raise UserError.at(
                self.path, "needs 'prompt' or 'messages' (or 'id')", line=number, field="prompt"
            )
        if "id" in row and (rid := self._id(row, ("id",), number)) is not None:
            self._put("id", (rid, turn), answer, number, "id")

    def _put_text(
        self, row: dict[str, Any], key: tuple[str, int], answer: str, number: int, field: str
    ) -> None:
        """By text: checked for a second answer only in a row without an id (rows with ids are told
        apart by them, and may ask the same text twice)."""
        if "id" in row or "uid" in row or "question_id" in row:
            self.by_text[key] = answer
        else:
            self._put("text", key, answer, number, field)

    def _add_conversation(self, number: int, row: dict[str, Any]) -> None:
        """`messages` ending in the recorded answer; keyed by `uid` (or `id`) and by the first user turn."""
        messages = [m for m in row["messages"] if isinstance(m, dict)]
        answer = _answer_text(messages[-1].get("content")) if messages else None
        if not messages or messages[-1].get("role") != "assistant" or answer is None:
            raise UserError.at(
                self.path,
                "expected 'messages' to end with the assistant's answer (or a 'response' field)",
                line=number,
                field="messages",
            )
        users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
        if not users:
            raise UserError.at(self.path, "'messages' has no user turn", line=number, field="messages")
        turn = len(users) - 1
        self._put_text(row, (normalise(users[0]), turn), answer, number, "messages")
        qid = self._id(row, ("uid", "id", "question_id"), number)
        if qid is not None:
            self._put("id", (qid, turn), answer, number, "uid" if "uid" in row else "id")

    def lookup(self, request: ModelRequest) -> str | None:
        users = [m.content for m in request.messages if m.role == "user"]
        turn = max(0, len(users) - 1)
        if request.prompt_id is not None:
            found = self.by_id.get((request.prompt_id, turn))
            if found is not None:
                return found
        if users:
            return self.by_text.get((normalise(users[0]), turn))
        return None

    def __len__(self) -> int:
        return len(self.by_id) + len(self.by_text)


@register_backend("replay")
class ReplayBackend(Backend):
    default_concurrency = 64

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        # `replay:~/answers.jsonl` is in the home folder, as `local:~/m.gguf` and a study's paths
        # are (the shell leaves a `~` after `replay:` as it is: it was "file not found")
        self.path = Path(config.path or config.model).expanduser()
        self.index = ReplayIndex(self.path)

    def ledger_identity(self) -> dict[str, Any]:
        stat = self.path.stat()
        return {
            **super().ledger_identity(),
            "model": str(self.path.resolve()),
            "mtime": stat.st_mtime_ns,
            "size": stat.st_size,
        }

    async def generate(self, request: ModelRequest) -> ModelResponse:
        answer = self.index.lookup(request)
        if answer is None:
            label = f"id '{request.prompt_id}'" if request.prompt_id else "prompt"
            preview = normalise(request.last_user_text())[:60]
            raise BackendError(f"{self.path}: no recorded answer for {label} ({preview!r})", retryable=False)
        return ModelResponse(text=answer, finish_reason="replay")
