"""The one async interface every model backend implements, and the registry of backend kinds."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from distillscope.models.types import GenerateParams, ModelRequest, ModelResponse
from distillscope.models.urls import check_base_url, check_header
from distillscope.redact import looks_like_secret, redact_headers, redact_url
from distillscope.registry import Registry
from distillscope.textsafe import has_visible


class ModelIdentity(BaseModel):
    """Who really built a model, when the user declares it (config `identity:`)."""

    organisation: str | None = None
    family: str | None = None

    @field_validator("organisation", "family")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        """A blank name (`organisation: "  "`) was taken as the maker: every answer naming the real
        one became a contradiction, and the report said "developed by   "."""
        if value is not None and not has_visible(value):
            raise ValueError("is blank: name it, or leave it out (the registry finds it by the model's name)")
        return value


class ModelConfig(BaseModel):
    """Everything needed to build a backend. Keys belong in environment variables (the *name* in
    `api_key_env`, or `${NAME}` in a header value); a gateway key written into a URL's query or a
    header value is possible, and `public_dict()` (all that is ever written) shows it as `***`."""

    # Inputs are never echoed in validation errors (a field may hold a secret), and every float
    # must be finite (`nan`, `inf` and `.nan` in YAML are refused).
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, allow_inf_nan=False)

    kind: str
    model: str
    name: str | None = Field(default=None, description="display name; defaults to `model`")
    urls: list[str] = Field(default_factory=list)
    api: str = "chat"  # "chat" or "completions"
    api_key_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    params: GenerateParams = Field(default_factory=GenerateParams)
    system_prompt: str | None = None
    timeout_s: float = Field(default=120.0, gt=0)
    concurrency: int | None = Field(default=None, ge=1)
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    max_retries: int = Field(default=6, ge=0)
    retry_base_s: float = Field(
        default=0.5, ge=0, description="first backoff delay; doubles each retry, with jitter"
    )
    price_per_million_input: float | None = Field(default=None, ge=0)
    price_per_million_output: float | None = Field(default=None, ge=0)
    identity: ModelIdentity | None = None
    path: str | None = None
    n_ctx: int = Field(default=2048, ge=0, description="local models: context in tokens; 0 = the model's own")
    max_answer_bytes: int = Field(
        default=1_000_000, ge=1, description="longer answers are cut (finish_reason 'capped') and counted"
    )
    max_retry_after_s: float = Field(
        default=120.0, ge=0, description="longest wait honoured from a server's Retry-After"
    )
    cache_namespace: str | None = Field(
        default=None, description="overrides the ledger identity, e.g. to share a cache across hosts"
    )

    @field_validator("urls")
    @classmethod
    def _valid_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            check_base_url(url)
        return urls

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            check_header(name, value)
        return headers

    @field_validator("api_key_env")
    @classmethod
    def _env_name_not_key(cls, value: str | None) -> str | None:
        if value is not None and looks_like_secret(value):
            raise ValueError(
                "must be the NAME of an environment variable (like OPENAI_API_KEY), and this value "
                "looks like a key itself (not shown): put the key in a variable and name the variable"
            )
        return value

    @property
    def display_name(self) -> str:
        return self.name or self.model

    def ledger_fields(self) -> dict[str, Any]:
        """What the call ledger knows a model by, beside each request: its kind, name (or
        `cache_namespace`) and API, not its URLs (replicas share answers; a moved server keeps its run)."""
        return {"kind": self.kind, "model": self.cache_namespace or self.model, "api": self.api}

    def public_dict(self) -> dict[str, Any]:
        """Settings as written to config.json / results.json: URLs and headers redacted."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["system_prompt"] = self.system_prompt  # always recorded, even when None
        data["urls"] = [redact_url(u) for u in self.urls]
        data["headers"] = redact_headers(self.headers)
        return data


class Backend(abc.ABC):
    """A model you can send chat requests to.

    Backends raise `distillscope.errors.BackendError` for failed calls; retries, rate limits,
    caching and budgets are the scheduler's job, not the backend's.
    """

    kind: ClassVar[str]
    default_concurrency: ClassVar[int] = 16

    def __init__(self, config: ModelConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.display_name

    def ledger_identity(self) -> dict[str, Any]:
        """What identifies this model in the ledger key (not the URLs: replicas share a cache)."""
        return self.config.ledger_fields()

    def endpoint(self) -> tuple[str, str, tuple[str, ...], str | None, str]:
        """What makes two backends one endpoint: kind, model, URLs, path and API, not the system prompt
        or the sampling parameters. Backends of one endpoint share its concurrency slots and rate
        limits (an `ice run` target and its default mutator, the same model without the target's
        system prompt, are two backends of one endpoint)."""
        cfg = self.config
        return (self.kind, cfg.model, tuple(cfg.urls), cfg.path, cfg.api)

    def prepare(self, request: ModelRequest) -> ModelRequest:
        """Apply configured defaults (system prompt, parameters): the ledger keys the result."""
        params = self.config.params.merged(request.params)
        messages = request.messages
        if self.config.system_prompt is not None and not any(m.role == "system" for m in messages):
            from distillscope.models.types import Message

            messages = (Message(role="system", content=self.config.system_prompt), *messages)
        return request.model_copy(update={"params": params, "messages": messages})

    @abc.abstractmethod
    async def generate(self, request: ModelRequest) -> ModelResponse:
        """Send one prepared request and return the answer."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections or model memory."""


BackendFactory = Callable[[ModelConfig], Backend]


def _load_builtin_backends() -> None:
    # Imported for their @register_backend side effect.
    from distillscope.models import local, openai_compat, replay  # noqa: F401


BACKENDS: Registry[BackendFactory] = Registry("model kind", load=_load_builtin_backends)


def register_backend(kind: str) -> Callable[[type[Backend]], type[Backend]]:
    """Class decorator: make a backend kind available to model specs and configs."""

    def decorate(cls: type[Backend]) -> type[Backend]:
        cls.kind = kind
        BACKENDS.add(kind, cls)
        return cls

    return decorate


def backend_kinds() -> list[str]:
    return sorted(BACKENDS)


def create_backend(config: ModelConfig) -> Backend:
    return BACKENDS.lookup(config.kind)(config)
