"""The data that flows into and out of every model backend."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from distillscope.textsafe import has_visible, safe_text

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    content: str

    @field_validator("content")
    @classmethod
    def _no_lone_surrogates(cls, value: str) -> str:
        """A prompt is made safe where a request is built: a lone surrogate (from a JSON file's
        `\\ud83d`, or a Python caller) would break its ledger key and every write of it."""
        return safe_text(value)


class GenerateParams(BaseModel):
    """Sampling parameters. `None` means "the backend's default" and is left out of the request."""

    # An unknown key (`temprature`, `presence_penalty`) is refused: it was dropped without a word,
    # so the run went on with the server's default and recorded settings that omitted it.
    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="forbid")

    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: tuple[str, ...] | None = None

    @field_validator("stop", mode="before")
    @classmethod
    def _one_stop_string(cls, value: object) -> object:
        """`stop: "###"`: one stop string, as the OpenAI API takes it (was "a valid tuple" refused)."""
        return (value,) if isinstance(value, str) else value

    @field_validator("stop")
    @classmethod
    def _no_empty_stop(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """An empty stop string occurs at the start of every text: llama.cpp then stops before the
        first token, so every answer came back empty (counted as the model's own empty replies,
        never retried); a server may refuse it or ignore it. It is a typo either way."""
        if value is not None and any(stop == "" for stop in value):
            raise ValueError("an empty stop string would end every answer before it starts: remove it")
        return value

    def merged(self, override: GenerateParams | None) -> GenerateParams:
        """`override`'s set fields win over ours."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_none=True))


class ModelRequest(BaseModel):
    """One call: chat messages plus parameters.

    `prompt_id` is a label for replay backends (match recorded answers by id) and for reports;
    it is *not* part of the ledger key, so the same prompt under two ids is one call.
    `response_format` asks for structured output (OpenAI's `{"type": "json_schema", ...}` or
    llama.cpp's `{"type": "json_object", "schema": ...}`); it is part of the ledger key.
    """

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...]
    params: GenerateParams = Field(default_factory=GenerateParams)
    prompt_id: str | None = None
    response_format: dict[str, Any] | None = None

    @classmethod
    def user(
        cls, text: str, *, params: GenerateParams | None = None, prompt_id: str | None = None
    ) -> ModelRequest:
        return cls(
            messages=(Message(role="user", content=text),),
            params=params or GenerateParams(),
            prompt_id=prompt_id,
        )

    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


Outcome = Literal["ok", "empty", "filtered"]
"""What a finished call gave: an answer, an empty one (``content: null`` or blank), or a stop by the
provider's content filter. Only ``ok`` is an answer to judge; the other two are real replies of
the model (recorded, counted, never judged, and not retried by a rerun)."""

CONTENT_FILTER = "content_filter"


def answer_outcome(text: str, finish_reason: str | None) -> Outcome:
    """`filtered` for a content-filter stop (whatever text came with it), `empty` for an answer
    with no visible character (blank, or only zero-width spaces, BOMs, fillers), else `ok`."""
    if finish_reason == CONTENT_FILTER:
        return "filtered"
    if not has_visible(text):
        return "empty"
    return "ok"


class ModelResponse(BaseModel):
    text: str
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0

    @property
    def outcome(self) -> Outcome:
        return answer_outcome(self.text, self.finish_reason)
