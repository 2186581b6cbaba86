"""OpenAI-compatible HTTP backend: OpenAI, vLLM, Ollama, llama.cpp server, SGLang, DeepSeek,
DashScope, Zhipu, Moonshot, Anthropic's compatible endpoint, Azure.

One model may be served by several endpoints (replicas); each call goes to the endpoint with the
fewest calls in flight. The API key is read from an environment variable at call time and never
stored on the object that gets serialised.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from distillscope.errors import BackendError, UserError
from distillscope.models.base import Backend, ModelConfig, register_backend
from distillscope.models.types import ModelRequest, ModelResponse, Usage

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529}


@dataclass
class Endpoint:
    url: str
    inflight: int = 0
    served: int = 0


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        import time

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@register_backend("openai-compatible")
class OpenAICompatibleBackend(Backend):
    default_concurrency = 16

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        if not config.urls:
            raise UserError(f"model '{config.display_name}': no base URL given")
        if config.api not in ("chat", "completions"):
            raise UserError(f"model '{config.display_name}': api must be 'chat' or 'completions', not '{config.api}'")
        self.endpoints = [Endpoint(url.rstrip("/")) for url in config.urls]
        self._client: httpx.AsyncClient | None = None

    def ledger_identity(self) -> dict[str, Any]:
        return {**super().ledger_identity(), "kind": "openai-compatible"}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=1024)
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.config.timeout_s), limits=limits)
        return self._client

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self.config.headers}
        env = self.config.api_key_env
        key = os.environ.get(env) if env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _body(self, request: ModelRequest) -> tuple[str, dict[str, Any]]:
        params = request.params.model_dump(exclude_none=True)
        if "stop" in params:
            params["stop"] = list(params["stop"])
        if self.config.api == "completions":
            return "/completions", {"model": self.config.model, "prompt": _as_plain_prompt(request), **params}
        messages = [m.model_dump() for m in request.messages]
        return "/chat/completions", {"model": self.config.model, "messages": messages, **params}

    def _pick(self) -> Endpoint:
        return min(self.endpoints, key=lambda e: (e.inflight, e.served))

    async def generate(self, request: ModelRequest) -> ModelResponse:
        path, body = self._body(request)
        endpoint = self._pick()
        endpoint.inflight += 1
        endpoint.served += 1
        try:
            try:
                reply = await self.client.post(endpoint.url + path, json=body, headers=self._headers())
            except httpx.TimeoutException as exc:
                raise BackendError(f"{endpoint.url}: timeout ({type(exc).__name__})", retryable=True) from None
            except httpx.TransportError as exc:
                raise BackendError(f"{endpoint.url}: connection error ({type(exc).__name__}: {exc})", retryable=True) from None
        finally:
            endpoint.inflight -= 1
        return self._parse(endpoint.url, reply)

    def _parse(self, url: str, reply: httpx.Response) -> ModelResponse:
        if reply.status_code >= 400:
            snippet = reply.text[:200].replace("\n", " ")
            raise BackendError(
                f"{url}: HTTP {reply.status_code}: {snippet}",
                retryable=reply.status_code in RETRYABLE_STATUS,
                status=reply.status_code,
                retry_after=parse_retry_after(reply.headers.get("retry-after")),
            )
        try:
            data = reply.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BackendError(f"{url}: response is not JSON ({reply.headers.get('content-type', '?')})", retryable=True) from None
        try:
            choice = data["choices"][0]
            text = choice["text"] if self.config.api == "completions" else choice["message"]["content"]
            if text is None:
                text = ""
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (KeyError, IndexError, TypeError) as exc:
            raise BackendError(f"{url}: malformed response ({type(exc).__name__}: {exc})", retryable=True) from None
        usage = data.get("usage") or {}
        return ModelResponse(
            text=text,
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            ),
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _as_plain_prompt(request: ModelRequest) -> str:
    """Base models have no chat template: a single user turn is sent as is, a dialogue as text."""
    msgs = request.messages
    if len(msgs) == 1:
        return msgs[0].content
    lines = []
    for m in msgs:
        lines.append(f"{m.role.capitalize()}: {m.content}")
    lines.append("Assistant:")
    return "\n\n".join(lines)
