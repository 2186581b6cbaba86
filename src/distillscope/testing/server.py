"""A real OpenAI-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

It answers `/v1/chat/completions` and `/v1/completions` after a fixed latency (or one drawn
uniformly between `latency_ms` and `latency_max_ms`, seeded: a jittery server), with replies from
a function of the request, and can inject faults at random with a seed (5xx, 429 with or without
Retry-After, connection resets, slow first byte, malformed or truncated JSON, empty choices,
`finish_reason: length`, wrong content type). It counts every request and every *finished*
(200) request by content hash, so a test can prove no finished call was repeated. A reply
function may return a `ScriptedReply` to send `content: null` or a `content_filter` stop, or a
`RawReply` to send any status, headers and bytes (hostile bodies; see `completion_bytes`).

Run it in a background thread (`with OpenAIServer(...) as server:`) or as a process:
    python -m distillscope.testing.server --port 8011 --latency-ms 50
    python -m distillscope.testing.server --port 8011 --latency-ms 20 --latency-max-ms 200
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class ScriptedReply:
    """What a reply function may return instead of text, to script a 200 reply that is not an
    answer: `content=None` sends `"content": null`; `finish_reason="content_filter"` a filter stop."""

    content: str | None
    finish_reason: str = "stop"


@dataclass(frozen=True)
class RawReply:
    """What a reply function may return to send exactly these bytes, with this status and these
    headers: the hostile replies of the reliability tests (a gzip bomb, `Infinity` in `usage`, a
    lone surrogate, a malformed `Retry-After` or `Location`, a key quoted in a 401). A 200 counts as
    finished once written, like any answer."""

    body: bytes
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


def completion_bytes(
    content: str | None,
    *,
    usage: str = '{"prompt_tokens": 1, "completion_tokens": 1}',
    finish_reason: str = "stop",
) -> bytes:
    """A chat completion body whose `usage` is given as raw JSON text (`Infinity`, `1e999`, a
    30-digit integer are not values `json.dumps` writes); `content` is JSON-escaped (a lone
    surrogate becomes `\\ud83d`, as a careless server sends it)."""
    message = json.dumps({"role": "assistant", "content": content})
    return (
        f'{{"id": "cmpl-raw", "object": "chat.completion", "model": "test-model", "choices": '
        f'[{{"index": 0, "message": {message}, "finish_reason": {json.dumps(finish_reason)}}}], '
        f'"usage": {usage}}}'
    ).encode()


Reply = Callable[[dict[str, Any]], "str | ScriptedReply | RawReply"]

FAULTS = (
    "500",
    "502",
    "503",
    "429",
    "429-retry-after",
    "reset",
    "slow-first-byte",
    "malformed-json",
    "truncated",
    "empty-choices",
    "length",
    "wrong-content-type",
    "read-timeout",
)


def echo_reply(body: dict[str, Any]) -> str:
    """Default reply: echo the last user message (or the completions prompt)."""
    if "messages" in body:
        users = [m.get("content", "") for m in body["messages"] if m.get("role") == "user"]
        return f"echo: {users[-1] if users else ''}"
    return f"echo: {body.get('prompt', '')}"


def template_reply(body: dict[str, Any]) -> str:
    """A reply shaped like a fuzzer mutator's, and distinct for every distinct request (its hash is
    in it, so two mutations of one template with different seeds differ): the echo, then a
    `<template>` block of about a seed template's length with the `{query}` slot."""
    echo = echo_reply(body)
    text = echo.replace("{query}", "").replace("<", "(").replace(">", ")")[:1200]
    return f"{echo}\n<template>Variant {request_hash(body)[:12]}. {text} {{query}}</template>"


REPLIES: dict[str, Reply] = {"echo": echo_reply, "template": template_reply}


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class FaultPlan:
    """Inject `faults` (names from FAULTS) into a `rate` share of requests, chosen with `seed`."""

    rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    seed: int = 0
    slow_s: float = 0.3
    timeout_s: float = 5.0
    retry_after: str = "0.05"  # the Retry-After header of the 429-retry-after fault
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.faults)


class OpenAIServer:
    def __init__(
        self,
        reply: Reply = echo_reply,
        *,
        latency_ms: float = 0.0,
        latency_max_ms: float | None = None,
        latency_seed: int = 0,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        require_key: str | None = None,
        refuse_response_format: tuple[str, ...] = (),
        refusal_status: int = 400,
        echo_headers_on_error: bool = False,
        redirect_to: str | None = None,
        keep_requests: bool = True,
        context_tokens: int | None = None,
        context_error: str = "openai",
    ) -> None:
        self.reply = reply
        # a small context window: a request whose tokens (characters / 4, plus max_tokens) exceed
        # it is answered HTTP 400 in the words of `context_error` (openai, llama-cpp or llama.cpp)
        self.context_tokens = context_tokens
        self.context_error = context_error
        self.context_refused = 0
        # `response_format` types answered with `refusal_status`, as a server without structured
        # outputs does (e.g. ("json_schema",) for llama-cpp-python's server, which takes json_object)
        self.refuse_response_format = refuse_response_format
        self.refusal_status = refusal_status
        self.refused = 0
        self.latency_s = latency_ms / 1000.0
        self.latency_max_s = max(self.latency_s, (latency_max_ms or 0.0) / 1000.0)
        self._latency_rng = random.Random(latency_seed)
        self.faults = faults or FaultPlan()
        self.host = host
        self.port = port
        self.require_key = require_key
        self.echo_headers_on_error = echo_headers_on_error  # a careless server: a 401 quotes the request
        # answer every call with 307 to this base URL ("/moved/v1": this server, another path)
        self.redirect_to = redirect_to
        # `bodies` and `headers_seen` hold every request for a test to inspect; a long-lived server
        # (a benchmark's, ~50,000 requests) keeps none: a growing heap makes its collector pause
        # it for longer and longer, and those pauses would be counted as the client's
        self.keep_requests = keep_requests
        self.requests = 0
        self.finished: Counter[str] = Counter()
        self.finished_prompts: Counter[str] = Counter()  # by last user message / prompt text
        self.bodies: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.inflight = 0
        self.max_inflight = 0
        self.latency_drawn = 0.0  # the sum of the latencies drawn, one per request
        self.fault_counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- HTTP ----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v1/completions", self._handle)
        app.router.add_post("/moved/v1/chat/completions", self._handle)  # a same-origin redirect target
        app.router.add_post("/moved/v1/completions", self._handle)
        app.router.add_get("/v1/models", self._models)
        return app

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "test-model", "object": "model"}]})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        with self._lock:
            self.requests += 1
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
            fault = self.faults.draw()
            if fault:
                self.fault_counts[fault] += 1
            latency = (
                self._latency_rng.uniform(self.latency_s, self.latency_max_s)
                if self.latency_max_s > self.latency_s
                else self.latency_s
            )
            self.latency_drawn += latency
        try:
            if self.keep_requests:
                with self._lock:
                    self.headers_seen.append(dict(request.headers))
            if self.redirect_to is not None and not request.path.startswith("/moved/"):
                target = self.redirect_to.rstrip("/") + request.path.removeprefix("/v1")
                return web.Response(status=307, headers={"Location": target})
            if (
                self.require_key is not None
                and request.headers.get("Authorization") != f"Bearer {self.require_key}"
            ):
                message = "invalid api key"
                if self.echo_headers_on_error:
                    message += f"; request headers: {dict(request.headers)}; url: {request.url}"
                return web.json_response({"error": {"message": message}}, status=401)
            body = await request.json()
            if self.keep_requests:
                with self._lock:
                    self.bodies.append(body)
            fmt = body.get("response_format")
            if isinstance(fmt, dict) and fmt.get("type") in self.refuse_response_format:
                with self._lock:
                    self.refused += 1
                message = f"response_format type {fmt.get('type')!r} is not supported"
                return web.json_response({"error": {"message": message}}, status=self.refusal_status)
            too_long = self._too_long(body)
            if too_long is not None:
                return too_long
            if latency:  # counted from the request's arrival: reading it is part of the latency
                await asyncio.sleep(max(0.0, started + latency - time.monotonic()))
            if fault:
                injected = await self._inject(fault, request)
                if injected is not None:
                    return injected
            reply = self.reply(body)
            if isinstance(reply, RawReply):
                raw = web.Response(body=reply.body, status=reply.status, headers=dict(reply.headers))
                await raw.prepare(request)
                await raw.write_eof()
                if reply.status == 200:
                    with self._lock:
                        self.finished[request_hash(body)] += 1
                        self.finished_prompts[_prompt_text(body)] += 1
                return raw
            text: str | None
            if isinstance(reply, ScriptedReply):
                text, finish = reply.content, reply.finish_reason
            else:
                text = reply
                finish = "length" if fault == "length" else "stop"
                if fault == "length":
                    text = text[: max(1, len(text) // 2)]
            if "messages" in body:
                choice: dict[str, Any] = {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            else:
                choice = {"index": 0, "text": text, "finish_reason": finish}
            payload = {
                "id": "cmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "test-model"),
                "choices": [choice],
                "usage": {
                    "prompt_tokens": _count_tokens(body),
                    "completion_tokens": len((text or "").split()),
                    "total_tokens": 0,
                },
            }
            response = web.json_response(payload)
            await response.prepare(request)
            await response.write_eof()
            with self._lock:  # counted only once the whole answer was handed to the client
                self.finished[request_hash(body)] += 1
                self.finished_prompts[_prompt_text(body)] += 1
            return response
        finally:
            with self._lock:
                self.inflight -= 1

    def _too_long(self, body: dict[str, Any]) -> web.Response | None:
        if self.context_tokens is None:
            return None
        prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) + len(
            str(body.get("prompt", ""))
        )
        asked = -(-prompt // 4) + int(body.get("max_tokens") or 0)
        if asked <= self.context_tokens:
            return None
        with self._lock:
            self.context_refused += 1
        n = self.context_tokens
        if self.context_error == "llama.cpp":  # llama.cpp's own server
            error = {"code": 400, "message": "the request exceeds the available context size, try increasing it",
                     "type": "exceed_context_size_error", "n_prompt_tokens": asked, "n_ctx": n}  # fmt: skip
        elif self.context_error == "llama-cpp":  # llama-cpp-python's older wording
            error = {"message": f"Requested tokens ({asked}) exceed context window of {n}"}
        else:  # OpenAI and vLLM
            error = {
                "message": f"This model's maximum context length is {n} tokens. However, you requested {asked} tokens.",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
            }
        return web.json_response({"error": error}, status=400)

    async def _inject(self, fault: str, request: web.Request) -> web.StreamResponse | None:
        if fault in ("500", "502", "503"):
            return web.json_response({"error": {"message": f"injected {fault}"}}, status=int(fault))
        if fault == "429":
            return web.json_response({"error": {"message": "rate limited"}}, status=429)
        if fault == "429-retry-after":
            return web.json_response(
                {"error": {"message": "rate limited"}},
                status=429,
                headers={"Retry-After": self.faults.retry_after},
            )
        if fault == "reset":
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise ConnectionResetError("injected reset")
        if fault == "slow-first-byte":
            await asyncio.sleep(self.faults.slow_s)
            return None
        if fault == "read-timeout":
            await asyncio.sleep(self.faults.timeout_s)
            return web.json_response({"error": {"message": "too late"}}, status=504)
        if fault == "malformed-json":
            return web.Response(text='{"choices": [', content_type="application/json")
        if fault == "truncated":
            response = web.StreamResponse(
                status=200, headers={"Content-Type": "application/json", "Content-Length": "500"}
            )
            await response.prepare(request)
            await response.write(b'{"id": "x", "choices": [{"message": {"content": "par')
            transport = request.transport
            if transport is not None:
                transport.abort()
            return response
        if fault == "empty-choices":
            return web.json_response({"id": "x", "choices": []})
        if fault == "wrong-content-type":
            return web.Response(text="<html><body>Bad gateway</body></html>", content_type="text/html")
        return None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> OpenAIServer:
        self._thread = threading.Thread(target=self._serve, name="openai-test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test server did not start")
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            # A client that disconnects cancels its handler: its request never counts as finished.
            self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port, backlog=4096)
            await site.start()
            if self.port == 0:
                sockets = getattr(site._server, "sockets", None) or []
                self.port = sockets[0].getsockname()[1]

        loop.run_until_complete(boot())
        self._ready.set()
        loop.run_forever()
        if self._runner is not None:
            loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        """Stop serving; stopping twice is harmless (a test may stop a server mid-run)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is in flight (False if `timeout` passes first). A client has an answer
        as soon as its bytes are sent, but the handler counts it as finished only after that, so counts
        read the moment a client's last call returns can be one short."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self.inflight == 0:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "finished": sum(self.finished.values()),
                "finished_twice": sum(1 for n in self.finished.values() if n > 1),
                "max_inflight": self.max_inflight,
                "mean_latency_s": self.latency_drawn / self.requests if self.requests else 0.0,
                "faults": dict(self.fault_counts),
            }


def _prompt_text(body: dict[str, Any]) -> str:
    if "messages" in body:
        users = [str(m.get("content", "")) for m in body["messages"] if m.get("role") == "user"]
        return users[-1] if users else ""
    return str(body.get("prompt", ""))


def _count_tokens(body: dict[str, Any]) -> int:
    if "messages" in body:
        return sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    return len(str(body.get("prompt", "")).split())


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible test server (echo replies).")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--latency-max-ms", type=float, default=None, help="jitter: latency uniform in [--latency-ms, this]"
    )
    parser.add_argument(
        "--reply",
        choices=sorted(REPLIES),
        default="echo",
        help="echo, or template (mutator-shaped, distinct)",
    )
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stats-file", default=None, help="write request counts here on SIGTERM")
    args = parser.parse_args()
    server = OpenAIServer(
        REPLIES[args.reply],
        latency_ms=args.latency_ms,
        latency_max_ms=args.latency_max_ms,
        latency_seed=args.seed,
        faults=FaultPlan(rate=args.fault_rate, seed=args.seed),
        port=args.port,
        keep_requests=False,  # a process: nobody can read them (its stats file has the counts)
    )
    server.start()
    print(f"listening on {server.url}", flush=True)
    import signal

    done = threading.Event()

    def stop(*_: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done.wait()
    # a client can have its answer (and the test stop the server) before the handler counted it
    server.settle()
    if args.stats_file:
        with open(args.stats_file, "w", encoding="utf-8") as fh:
            json.dump({**server.stats(), "finished_by_prompt": dict(server.finished_prompts)}, fh)
    server.stop()


if __name__ == "__main__":
    main()
