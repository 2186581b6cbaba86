"""The data that flows into and out of every model backend."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class GenerateParams(BaseModel):
    """Sampling parameters. `None` means "the backend's default" and is left out of the request."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: tuple[str, ...] | None = None

    def merged(self, override: GenerateParams | None) -> GenerateParams:
        """`override`'s set fields win over ours."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_none=True))


class ModelRequest(BaseModel):
    """One call: chat messages plus parameters.

    `prompt_id` is a label for replay backends (match recorded answers by id) and for reports;
    it is *not* part of the ledger key, so the same prompt under two ids is one call.
    """

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...]
    params: GenerateParams = Field(default_factory=GenerateParams)
    prompt_id: str | None = None

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


class ModelResponse(BaseModel):
    text: str
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
