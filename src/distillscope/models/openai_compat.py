"""OpenAI-compatible HTTP backend: OpenAI, vLLM, Ollama, llama.cpp server, SGLang, DeepSeek,
DashScope, Zhipu, Moonshot, Anthropic's compatible endpoint, Azure.

One model may be served by several endpoints (replicas); each call goes to the endpoint with the
fewest calls in flight. The API key is read from an environment variable at call time and never
stored on the object that gets serialised.

HTTP goes through aiohttp: at 32 connections httpx/httpcore 1.0 spends most of its time scanning
its connection pool (quadratic in the number of connections), which capped a run at ~330 calls/s
on one core; aiohttp's connector does ~2,700 (see bench/README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
import zlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from distillscope import jsonsafe
from distillscope.errors import BackendError, UserError
from distillscope.models.base import Backend, ModelConfig, register_backend
from distillscope.models.types import ModelRequest, ModelResponse, Usage
from distillscope.models.urls import check_base_url, expand_header, origin
from distillscope.redact import is_secret_header, redact_text, remember_secret, secret_param_values

REDIRECT_STATUS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529}
# A reply body is read (and unpacked) at most this many times `max_answer_bytes`, and never less
# than BODY_FLOOR: JSON escapes make a text up to 6 times longer (`\u0001`), plus the envelope.
# The bound applies before decoding or unpacking, so a 1 MB gzip that unpacks to 1 GB costs 16 MB.
BODY_PER_ANSWER_BYTE = 16
BODY_FLOOR = 16 * 2**20
ERROR_BODY_BYTES = 64 * 1024  # of an error reply, only an excerpt is kept
READ_CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # unpacked here, under the bound (aiohttp's own has none)


@dataclass
class Endpoint:
    url: str
    inflight: int = 0
    served: int = 0
    proxy: URL | None = None
    proxy_auth: aiohttp.BasicAuth | None = None

    def __post_init__(self) -> None:
        # HTTP(S)_PROXY / NO_PROXY, looked up once: aiohttp's trust_env would look them up (and
        # ~/.netrc) in a worker thread on every request, a fifth of the cost of a call.
        try:
            with contextlib.suppress(LookupError):
                self.proxy, self.proxy_auth = get_env_proxy_for_url(URL(self.url))
        except ValueError as exc:  # `HTTPS_PROXY=http://proxy:99999`: was a traceback, exit 1
            scheme = urlsplit(self.url).scheme
            raise UserError(
                f"the proxy for {scheme}:// URLs set in the environment ({scheme.upper()}_PROXY or "
                f"{scheme}_proxy; its value is not shown) is not a usable URL ({exc}): correct it, "
                "or unset it (or name this host in NO_PROXY)"
            ) from None


def join_path(base: str, path: str) -> str:
    """`base` + `path`, keeping a query string where it belongs (some gateways want
    `?api-version=...` or a key parameter on every call)."""
    if "?" not in base and "#" not in base:
        return base + path
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, parts.query, ""))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date); None when absent or
    malformed (an absurd date such as year 99999999999 included: no OverflowError escapes)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError, IndexError, OSError):
        return None


def redirect_target(url: str, location: str) -> str:
    """The absolute URL a redirect's `Location` points to; ValueError (safe to show) when it is
    malformed: a backslash or space in it, two ports, a port out of range, no host."""
    if "\\" in location:
        raise ValueError("a backslash in the Location")
    try:
        target = str(URL(url).join(URL(location)))
        check_base_url(target)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    return target


class BodyTooLarge(Exception):
    """A reply body (or what it unpacks to) past the bound."""


class _Unpacker:
    """Incremental gzip/deflate decoding that never produces more than the bytes asked for."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate = False
        self._inflater = zlib.decompressobj(47)  # a gzip or zlib header, detected
        self._started = False

    def feed(self, chunk: bytes, room: int) -> bytes:
        """`chunk` unpacked; BodyTooLarge when it would unpack to more than `room` bytes."""
        out = bytearray()
        data = chunk
        while data:
            try:
                piece = self._inflater.decompress(data, room - len(out) + 1)
            except zlib.error:
                if self.encoding == "deflate" and not self._started and not self._raw_deflate:
                    self._raw_deflate = True  # "deflate" sent without the zlib header (common)
                    self._inflater = zlib.decompressobj(-15)
                    continue
                raise
            self._started = True
            out += piece
            if len(out) > room or self._inflater.unconsumed_tail:
                raise BodyTooLarge
            data = b""
            if self._inflater.eof and self._inflater.unused_data:  # another gzip member follows
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(47)
        return bytes(out)

    @property
    def complete(self) -> bool:
        return self._inflater.eof


async def read_bounded(reply: aiohttp.ClientResponse, limit: int, *, excerpt: bool = False) -> bytes:
    """A reply's body, unpacked, read in chunks and never more than `limit` bytes before or after
    unpacking. Past the limit: BodyTooLarge, or with `excerpt` the first `limit` bytes."""
    encoding = reply.headers.get("content-encoding", "").strip().lower()
    if encoding in ("x-gzip",):
        encoding = "gzip"
    unpacker = _Unpacker(encoding) if encoding in ("gzip", "deflate") else None
    if encoding not in ("", "identity", "gzip", "deflate"):
        raise ValueError(f"unsupported Content-Encoding {encoding[:40]!r}")
    if unpacker is None and not excerpt and (reply.content_length or 0) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in reply.content.iter_chunked(READ_CHUNK):
        room = limit - len(body)
        try:
            piece = chunk if unpacker is None else unpacker.feed(chunk, room)
        except BodyTooLarge:
            if excerpt:
                return bytes(body)
            raise
        if len(piece) > room:
            if excerpt:
                return bytes(body + piece[:room])
            raise BodyTooLarge
        body += piece
    if unpacker is not None and not unpacker.complete and not excerpt:
        raise ValueError("the compressed body ends early")
    return bytes(body)


@register_backend("openai-compatible")
class OpenAICompatibleBackend(Backend):
    default_concurrency = 16

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        if not config.urls:
            raise UserError(f"model '{config.display_name}': no base URL given")
        if config.api not in ("chat", "completions"):
            raise UserError(
                f"model '{config.display_name}': api must be 'chat' or 'completions', not '{config.api}'"
            )
        self.endpoints = [Endpoint(url.rstrip("/") if "?" not in url else url) for url in config.urls]
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._guard: AsyncGenerator[None, None] | None = None
        self._secrets()  # registered before any reply can echo them

    def ledger_identity(self) -> dict[str, Any]:
        return {**super().ledger_identity(), "kind": "openai-compatible"}

    async def _client(self) -> aiohttp.ClientSession:
        """One connection pool per event loop (a session cannot outlive the loop it was made in)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            if self._session is not None and not self._session.closed:
                self._session.detach()  # made in a loop that is gone: nothing left to close cleanly
            timeout = aiohttp.ClientTimeout(
                total=None, connect=self.config.timeout_s, sock_read=self.config.timeout_s
            )
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=30.0)
            # auto_decompress off: `read_bounded` unpacks under a bound (a gzip bomb costs 16 MB, not 1 GB)
            session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)
            guard = _close_with_loop(session)
            await anext(guard)
            self._session, self._session_loop, self._guard = session, loop, guard
        return self._session

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
            **{k: expand_header(v, os.environ) for k, v in self.config.headers.items()},
        }
        env = self.config.api_key_env
        key = os.environ.get(env) if env else None
        configured = any(k.lower() == "authorization" for k in self.config.headers)
        # a configured Authorization header wins: the key variable (OPENAI_API_KEY by default) is
        # not sent in its place, to a gateway that never asked for it
        if key and key.strip() and not configured:  # a blank variable is no key
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _secrets(self) -> list[str]:
        """Every secret this model sends: its key, secret header values (expanded), secret URL
        parameters. Registered with `redact`, so no channel shows them, whole or in part."""
        values = [os.environ.get(self.config.api_key_env, "") if self.config.api_key_env else ""]
        values += [
            expand_header(v, os.environ) for k, v in self.config.headers.items() if is_secret_header(k)
        ]
        for url in self.config.urls:
            values += secret_param_values(url)
        for value in values:
            remember_secret(value)
        return [v for v in values if v]

    @property
    def _body_limit(self) -> int:
        return max(BODY_PER_ANSWER_BYTE * self.config.max_answer_bytes, BODY_FLOOR)

    def _body(self, request: ModelRequest) -> tuple[str, dict[str, Any]]:
        params = request.params.model_dump(exclude_none=True)
        if "stop" in params:
            params["stop"] = list(params["stop"])
        if self.config.api == "completions":
            return "/completions", {"model": self.config.model, "prompt": _as_plain_prompt(request), **params}
        messages = [m.model_dump() for m in request.messages]
        body = {"model": self.config.model, "messages": messages, **params}
        if request.response_format is not None:
            body["response_format"] = request.response_format
        return "/chat/completions", body

    def _pick(self) -> Endpoint:
        return min(self.endpoints, key=lambda e: (e.inflight, e.served))

    async def generate(self, request: ModelRequest) -> ModelResponse:
        path, body = self._body(request)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        endpoint = self._pick()
        endpoint.inflight += 1
        endpoint.served += 1
        try:
            status, headers, raw = await self._post(endpoint, join_path(endpoint.url, path), data)
        finally:
            endpoint.inflight -= 1
        try:
            return self._parse(
                endpoint.url, status, headers.get("content-type"), headers.get("retry-after"), raw
            )
        except BackendError as exc:
            if request.response_format is not None and exc.status and "response_format" in str(exc):
                # a server rejecting the structured-output request (llama-cpp-python answers 500 for
                # a form it does not know): the same request would fail again, so do not retry it
                raise BackendError(str(exc), retryable=False, status=exc.status) from None
            raise

    async def _post(self, endpoint: Endpoint, url: str, data: bytes) -> tuple[int, Any, bytes]:
        """POST, following redirects only within the endpoint's own origin (scheme, host, port).

        aiohttp would follow a redirect anywhere and send our headers (custom key headers
        included) to the new host; a redirect to another origin is an error naming both."""
        for _ in range(MAX_REDIRECTS + 1):
            try:
                session = await self._client()
                async with session.post(
                    url,
                    data=data,
                    headers=self._headers(),
                    proxy=endpoint.proxy,
                    proxy_auth=endpoint.proxy_auth,
                    allow_redirects=False,
                ) as reply:
                    status, headers = reply.status, reply.headers
                    location = headers.get("location") if status in REDIRECT_STATUS else None
                    raw = b""
                    if not location:
                        if status >= 400:
                            raw = await read_bounded(reply, ERROR_BODY_BYTES, excerpt=True)
                        else:
                            raw = await read_bounded(reply, self._body_limit)
            except BodyTooLarge:
                raise BackendError(
                    f"{endpoint.url}: reply body over {self._body_limit:,} bytes (16 times "
                    "max_answer_bytes, counted before and after unpacking); not read further",
                    retryable=False,
                ) from None
            except TimeoutError as exc:
                raise BackendError(
                    f"{endpoint.url}: timeout ({type(exc).__name__})",
                    retryable=True,
                    unreachable=isinstance(exc, aiohttp.ConnectionTimeoutError),
                ) from None
            except aiohttp.ClientError as exc:
                raise BackendError(
                    f"{endpoint.url}: connection error ({type(exc).__name__}: {exc})",
                    retryable=True,
                    unreachable=isinstance(exc, aiohttp.ClientConnectorError),
                ) from None
            except (ValueError, zlib.error) as exc:  # a body that cannot be unpacked, a bad header
                raise BackendError(
                    f"{endpoint.url}: malformed reply ({type(exc).__name__}: {exc})", retryable=True
                ) from None
            if location is None:
                return status, headers, raw
            try:
                target = redirect_target(url, location)
            except ValueError as exc:
                raise BackendError(
                    f"{endpoint.url}: HTTP {status} redirect to a malformed Location ({exc}), not followed",
                    retryable=False,
                    status=status,
                ) from None
            if origin(target) != origin(url):
                raise BackendError(
                    f"{endpoint.url}: HTTP {status} redirect from {origin(url)} to another origin "
                    f"{origin(target)}, not followed (our headers would go there); use the final URL",
                    retryable=False,
                    status=status,
                )
            url = target
        raise BackendError(
            f"{endpoint.url}: more than {MAX_REDIRECTS} redirects", retryable=False, status=310
        )

    def _parse(
        self, url: str, status: int, content_type: str | None, retry_after: str | None, raw: bytes
    ) -> ModelResponse:
        if status >= 400:
            # Redacted before it is cut: a key quoted early in the message is hidden whole, and a
            # part of it the cut leaves behind is hidden as a fragment (`redact_text`).
            text = raw[:4000].decode("utf-8", "replace").replace("\n", " ")
            snippet = redact_text(text, self._secrets())[:200]
            raise BackendError(
                f"{url}: HTTP {status}: {snippet}",
                retryable=status in RETRYABLE_STATUS,
                status=status,
                retry_after=parse_retry_after(retry_after),
            )
        try:
            data = jsonsafe.loads(raw)
        except jsonsafe.NumberOutOfRange as exc:  # NaN, Infinity, 1e999, 10**30: a malformed reply
            raise BackendError(f"{url}: malformed response ({exc})", retryable=True) from None
        except (ValueError, RecursionError):  # not JSON, not UTF-8
            raise BackendError(
                f"{url}: response is not JSON ({content_type or '?'})", retryable=True
            ) from None
        if isinstance(data, dict) and data.get("error") and not data.get("choices"):
            # an error sent as HTTP 200 (some gateways do): its words, not "malformed (KeyError: 'choices')"
            error = data["error"]
            text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
            snippet = redact_text(text[:4000].replace("\n", " "), self._secrets())[:200]
            raise BackendError(
                f"{url}: HTTP {status} with an error instead of an answer: {snippet}", retryable=True
            )
        try:
            choice = data["choices"][0]
            text = choice["text"] if self.config.api == "completions" else choice["message"]["content"]
            if text is None:
                text = ""
            if isinstance(text, list) and self.config.api != "completions":
                text = _parts_text(text)
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (KeyError, IndexError, TypeError):
            raise BackendError(
                f"{url}: malformed response ({_shape_problem(data, self.config.api)})", retryable=True
            ) from None
        usage = data.get("usage")
        usage = usage if isinstance(usage, dict) else {}  # a server may omit or mangle it
        finish = choice.get("finish_reason")
        return ModelResponse(
            text=text,
            finish_reason=finish if isinstance(finish, str) else None,
            usage=Usage(
                prompt_tokens=_token_count(usage.get("prompt_tokens")),
                completion_tokens=_token_count(usage.get("completion_tokens")),
            ),
        )

    async def aclose(self) -> None:
        session, guard = self._session, self._guard
        self._session = self._guard = None
        if session is None or guard is None:
            return
        if self._session_loop is asyncio.get_running_loop():
            await guard.aclose()  # closes the session
        elif not session.closed:
            session.detach()


async def _close_with_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Closes `session` when its event loop shuts down, should nobody call `aclose()`.

    `asyncio.run()` finalises every suspended async generator before closing the loop, so a
    backend used without `aclose()` (a quick script, a test) still closes its connections there
    instead of printing "Unclosed connector" at exit.
    """
    try:
        yield
    finally:
        await session.close()


# The kinds of content part whose text is the answer: chat servers that answer in parts
# (`[{"type": "text", "text": "..."}]`, as the OpenAI API takes them in requests) send these
_TEXT_PARTS = {"text": "text", "output_text": "text", "refusal": "refusal"}


def _parts_text(parts: list[Any]) -> str | None:
    """A message's content sent as a list of parts: their texts joined, or None (malformed) when a
    part is not a text part, so an image or audio part is never taken for an empty answer."""
    texts: list[str] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        key = _TEXT_PARTS.get(kind) if isinstance(kind, str) else None
        value = part.get(key) if key is not None else None
        if not isinstance(value, str):
            return None
        texts.append(value)
    return "".join(texts)


def _shape_problem(data: Any, api: str) -> str:
    """Which field of a reply holds no answer text, in words: `choices: null` was reported as
    "TypeError: 'NoneType' object is not subscriptable"."""
    path: tuple[str | int, ...] = (
        ("choices", 0, "text") if api == "completions" else ("choices", 0, "message", "content")
    )
    value: Any = data
    where = ""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not value:
                return f"field '{where}': {_json_kind(value)}, expected a list of choices"
            where += f"[{step}]"
        else:
            if not isinstance(value, dict):
                return (f"field '{where}': " if where else "") + f"{_json_kind(value)}, expected an object"
            if step not in value:
                return f"field '{where}.{step}': missing" if where else f"field '{step}': missing"
            where = f"{where}.{step}" if where else step
        value = value[step]
    if isinstance(value, list) and value:
        return f"field '{where}': a list with a part that is not text, expected text or text parts"
    return f"field '{where}': {_json_kind(value)}, expected text"


def _json_kind(value: Any) -> str:
    """A JSON value's kind, as a message names it; `choices: []` is said to be empty."""
    return "an empty list" if value == [] else jsonsafe.json_kind(value)


def _token_count(value: Any) -> int:
    """A usage count as the server sent it; 0 when missing or not a number."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


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
