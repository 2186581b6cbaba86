"""Provider faults against the scheduler and the OpenAI-compatible backend, over real HTTP.

Each fault kind the test server can inject is tried on its own and all mixed together: every call
either succeeds after retries, with the same answer a fault-free run gives, or comes back as a
failed call with an error; a failure is never an empty answer."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from distillscope.engine.ledger import Ledger
from distillscope.engine.scheduler import Scheduler
from distillscope.errors import BackendError, UserError
from distillscope.models.openai_compat import OpenAICompatibleBackend
from distillscope.models.spec import build_backend
from distillscope.models.types import ModelRequest
from distillscope.testing.server import FAULTS, FaultPlan


def requests(n: int) -> list[ModelRequest]:
    return [ModelRequest.user(f"question {i}") for i in range(n)]


EXPECTED = [f"echo: question {i}" for i in range(200)]


def run_batch(ledger: Path, url: str, n: int, **overrides: Any) -> tuple[list[Any], dict[str, Any]]:
    settings = {"max_retries": 8, "retry_base_s": 0.005, "timeout_s": 5.0, **overrides}

    async def go() -> tuple[list[Any], dict[str, Any]]:
        backend = build_backend(f"openai-compatible:m@{url}", **settings)
        scheduler = Scheduler(Ledger(ledger), concurrency=8)
        try:
            return await scheduler.map(backend, requests(n), stage="t"), scheduler.totals()
        finally:
            await backend.aclose()
            scheduler.ledger.close()

    return asyncio.run(go())


RECOVERABLE = [f for f in FAULTS if f != "length"]


@pytest.mark.parametrize("fault", RECOVERABLE)
def test_each_fault_is_retried_to_the_fault_free_answer(
    openai_server: Any, tmp_path: Path, fault: str
) -> None:
    # read-timeout: the server stalls 2 s, our per-request timeout is 0.3 s
    # rate 0.3 and 8 retries: a call fails only if 9 faults in a row hit it (p = 2e-5)
    server = openai_server(faults=FaultPlan(rate=0.3, faults=(fault,), seed=11, slow_s=0.05, timeout_s=2.0))
    results, totals = run_batch(
        tmp_path / "l.sqlite", server.url, 24, timeout_s=0.3 if fault == "read-timeout" else 5.0
    )
    assert server.stats()["faults"].get(fault, 0) > 0, "the fault was never injected"
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert [r.text for r in results] == EXPECTED[:24]
    if fault != "slow-first-byte":  # a slow first byte within the timeout is not an error
        assert totals["retries"] >= server.stats()["faults"][fault]


def test_finish_reason_length_is_an_answer_recorded_and_counted(openai_server: Any, tmp_path: Path) -> None:
    """A reply cut at max_tokens is a successful, truncated answer: kept, never retried, and counted."""
    server = openai_server(faults=FaultPlan(rate=0.5, faults=("length",), seed=5))
    results, totals = run_batch(tmp_path / "l.sqlite", server.url, 20)
    truncated = [r for r in results if r.response is not None and r.response.finish_reason == "length"]
    assert len(truncated) == server.stats()["faults"]["length"] > 0
    assert totals["calls_truncated"] == len(truncated)
    assert totals["retries"] == 0 and server.stats()["requests"] == 20
    for result, expected in zip(results, EXPECTED, strict=False):
        if result.response.finish_reason == "length":
            assert expected.startswith(result.text) and result.text != expected
        else:
            assert result.text == expected
    db = sqlite3.connect(tmp_path / "l.sqlite")
    assert db.execute("SELECT COUNT(*) FROM calls WHERE finish_reason='length' AND status='ok'").fetchone()[
        0
    ] == len(truncated)
    # and from the ledger, the truncation is still counted
    _, again = run_batch(tmp_path / "l.sqlite", server.url, 20)
    assert again["calls_truncated"] == len(truncated) and again["calls_sent"] == 0


def test_mixed_faults_succeed_or_fail_loudly_and_match_a_clean_run(
    openai_server: Any, tmp_path: Path, read_ledger: Any
) -> None:
    clean_server = openai_server()
    clean, _ = run_batch(tmp_path / "clean.sqlite", clean_server.url, 80)
    faults = tuple(f for f in FAULTS if f != "length")
    server = openai_server(faults=FaultPlan(rate=0.45, faults=faults, seed=7, slow_s=0.02, timeout_s=1.0))
    # two retries only, so that some calls run out of them and must come back as failures
    results, totals = run_batch(tmp_path / "l.sqlite", server.url, 80, max_retries=2, timeout_s=0.3)
    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    assert ok and failed, "seed should give both outcomes"
    for mine, reference in zip(results, clean, strict=True):
        if mine.ok:
            assert mine.text == reference.text
        else:
            assert mine.error and mine.response is None
            with pytest.raises(ValueError):
                _ = mine.text  # a failure can never be read as an (empty) answer
    assert totals["calls_failed"] == len(failed)
    rows = {r["key"]: r for r in read_ledger(tmp_path / "l.sqlite")}
    for r in failed:
        assert rows[r.key]["status"] == "error" and rows[r.key]["response"] is None and rows[r.key]["error"]
    for r in ok:
        assert rows[r.key]["status"] == "ok"
    # the next run retries exactly the failed calls and then everything matches the clean run
    calm = openai_server()
    again, totals2 = run_batch(tmp_path / "l.sqlite", calm.url, 80)
    assert [r.text for r in again] == [r.text for r in clean]
    assert totals2["calls_sent"] == len(failed) == calm.stats()["requests"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/v1", "http://no-such-host.invalid/v1"])
def test_unreachable_server_stops_the_run_quickly(tmp_path: Path, url: str) -> None:
    """A wrong port or host is a setup problem: a UserError after a few quick retries, not minutes of backoff."""
    started = time.monotonic()
    with pytest.raises(UserError, match="cannot reach its server"):
        run_batch(tmp_path / "l.sqlite", url.format(port=closed_port()), 30, retry_base_s=0.05)
    assert time.monotonic() - started < 5
    assert Ledger(tmp_path / "l.sqlite").counts().get("ok", 0) == 0


def test_a_server_that_answered_then_died_gives_failed_calls_not_a_setup_error(
    openai_server: Any, tmp_path: Path
) -> None:
    server = openai_server()
    port = server.port

    async def go() -> list[Any]:
        backend = build_backend(
            f"openai-compatible:m@http://127.0.0.1:{port}/v1", max_retries=2, retry_base_s=0.01
        )
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
        try:
            first = await scheduler.call(backend, ModelRequest.user("before"), stage="t")
            server.stop()
            later = await scheduler.map(backend, requests(3), stage="t")
            return [first, *later]
        finally:
            await backend.aclose()

    first, *later = asyncio.run(go())
    assert first.ok and first.text == "echo: before"
    assert all(not r.ok and "connection error" in (r.error or "") for r in later)


@pytest.mark.parametrize("status", [401, 404])
def test_refused_first_call_is_a_setup_error(openai_server: Any, tmp_path: Path, status: int) -> None:
    server = openai_server(require_key="right-key") if status == 401 else None

    async def go() -> None:
        url = server.url if server else openai_server().url.replace("/v1", "/nope")
        backend = build_backend(f"openai-compatible:m@{url}", max_retries=1, retry_base_s=0.01)
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
        try:
            await scheduler.map(backend, requests(5), stage="t")
        finally:
            await backend.aclose()

    with pytest.raises(UserError, match=f"refused the first call .*HTTP {status}"):
        asyncio.run(go())


@pytest.mark.parametrize(
    "body",
    [
        b'{"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}], "usage": 5}',
        b'{"choices": [{"message": {"content": "hi"}, "finish_reason": 3}], "usage": {"prompt_tokens": "many"}}',
        b'{"choices": [{"message": {"content": "hi"}}]}',
    ],
)
def test_odd_but_usable_responses_parse(body: bytes) -> None:
    backend = build_backend("openai-compatible:m@http://127.0.0.1:1/v1")
    assert isinstance(backend, OpenAICompatibleBackend)
    response = backend._parse("u", 200, "application/json", None, body)
    assert response.text == "hi" and response.usage.prompt_tokens == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"text"',
        b'{"choices": {"0": 1}}',
        b'{"choices": [{"message": {"content": 7}}]}',
        b"\xff\xfe",
    ],
)
def test_unusable_responses_are_retryable_errors(body: bytes) -> None:
    backend = build_backend("openai-compatible:m@http://127.0.0.1:1/v1")
    assert isinstance(backend, OpenAICompatibleBackend)
    with pytest.raises(BackendError) as caught:
        backend._parse("u", 200, "application/json", None, body)
    assert caught.value.retryable
