"""Property test: the scheduler against generated hostile replies from the real local test server.

Each example scripts one reply per prompt (drawn from broken text, out-of-range numbers, broken
bodies and encodings, malformed HTTP metadata, quoted secrets) and runs the scheduler and ledger
over them twice. Whatever the mix: nothing but a `UserError` escapes (a setup error: a refused or
redirected first call), no ledger row is left `pending`, no secret reaches the ledger, and the
rerun sends no call the first run finished."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sqlite3
import tempfile
import zlib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillscope.engine.ledger import Ledger
from distillscope.engine.scheduler import Scheduler
from distillscope.errors import UserError
from distillscope.models.spec import build_backend
from distillscope.models.types import ModelRequest
from distillscope.testing.server import OpenAIServer, RawReply, completion_bytes

KEY = "sk-fuzzcanary-" + "Qx8" * 12
JSON = (("Content-Type", "application/json"),)
PIECES = [
    "a",
    "Sure!",
    " ",
    "\n",
    "\ud83d",
    "\udc00",
    "\u200b",
    "\ufeff",
    "\u3164",
    "\u2800",
    "é",
    "\x00",
    KEY[:20],
]

texts = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
numbers = st.sampled_from(
    ["1", "0", "-3", "1e999", "Infinity", "NaN", "1" + "0" * 30, "9" * 5000, '"7"', "null"]
)


def _gz(body: bytes) -> RawReply:
    return RawReply(gzip.compress(body), headers=(*JSON, ("Content-Encoding", "gzip")))


replies = st.one_of(
    st.builds(lambda t: RawReply(completion_bytes(t)), texts),
    st.builds(
        lambda t, f: RawReply(completion_bytes("ok", finish_reason=t + f)),
        texts,
        st.sampled_from(["", "stop"]),
    ),
    st.builds(
        lambda a, b: RawReply(
            completion_bytes("fine", usage=f'{{"prompt_tokens": {a}, "completion_tokens": {b}}}')
        ),
        numbers,
        numbers,
    ),
    st.builds(lambda t: _gz(completion_bytes(t)), texts),
    st.sampled_from(
        [
            RawReply(b'{"choices": ['),
            RawReply(b""),
            RawReply(b"\xff\xfe not utf-8"),
            RawReply(b"[" * 5000),
            RawReply(b'{"choices": []}'),
            RawReply(b"garbage", headers=(*JSON, ("Content-Encoding", "gzip"))),
            RawReply(
                gzip.compress(completion_bytes("x"))[:-9], headers=(*JSON, ("Content-Encoding", "gzip"))
            ),
            RawReply(
                zlib.compress(completion_bytes("deflated")), headers=(*JSON, ("Content-Encoding", "deflate"))
            ),
            RawReply(completion_bytes("br"), headers=(*JSON, ("Content-Encoding", "br"))),
            RawReply(completion_bytes(None)),
            RawReply(
                b'{"error": {"message": "busy"}}',
                429,
                (*JSON, ("Retry-After", "Mon, 01 Jan 99999999999 0:0:0 GMT")),
            ),
            RawReply(b'{"error": {"message": "busy"}}', 503, (*JSON, ("Retry-After", "1e999"))),
            RawReply(json.dumps({"error": {"message": f"bad key {KEY} given"}}).encode(), 500),
            RawReply(b"", 307, (("Location", "http://127.0.0.1\\@evil.test/v1"),)),
            RawReply(b"", 307, (("Location", "http://127.0.0.1:1:2/v1"),)),
            RawReply(json.dumps({"error": {"message": f"Incorrect API key {KEY[:30]}"}}).encode(), 401),
        ]
    ),
    st.just("plain answer"),
)


def _rows(path: Path) -> list[tuple[str, str, str | None, str | None, str]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT key, status, response, error, request FROM calls").fetchall()
    finally:
        db.close()


def _run(ledger: Path, url: str, n: int) -> str | None:
    """Run the n prompts; None after a clean finish, or the UserError's message."""

    async def go() -> None:
        backend = build_backend(
            f"openai-compatible:m@{url}", max_retries=1, retry_base_s=0.001, max_retry_after_s=0.01
        )
        scheduler = Scheduler(Ledger(ledger))
        try:
            await scheduler.map(backend, [ModelRequest.user(f"p {i}") for i in range(n)], stage="fuzz")
        finally:
            await backend.aclose()
            scheduler.ledger.close()

    try:
        asyncio.run(go())
    except UserError as exc:
        assert "\n" not in str(exc)
        return str(exc)
    return None


@settings(max_examples=25, deadline=20_000, suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(replies, min_size=1, max_size=5))
def test_generated_hostile_replies(script: list[RawReply | str]) -> None:
    os.environ["OPENAI_API_KEY"] = KEY  # the key every call sends: it must never be stored

    def reply(body: dict[str, Any]) -> RawReply | str:
        return script[int(body["messages"][-1]["content"].split()[-1])]

    with OpenAIServer(reply) as server, tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "ledger.sqlite"
        _run(ledger, server.url, len(script))
        rows = _rows(ledger) if ledger.exists() else []
        assert all(status != "pending" for _, status, *_ in rows)
        stored = json.dumps(rows, ensure_ascii=False)
        assert KEY[:8] not in stored and KEY[-8:] not in stored
        finished = {prompt for prompt, status in _prompts(rows) if status in ("ok", "empty", "filtered")}
        sent_before = len(server.bodies)
        _run(ledger, server.url, len(script))
        again = {b["messages"][-1]["content"] for b in server.bodies[sent_before:]}
        assert not again & finished
        assert all(status != "pending" for _, status, *_ in _rows(ledger))


def _prompts(rows: list[tuple[str, str, str | None, str | None, str]]) -> list[tuple[str, str]]:
    return [(json.loads(request)["messages"][-1]["content"], status) for _, status, _, _, request in rows]
