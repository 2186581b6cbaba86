import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from distillscope.engine.ledger import Ledger
from distillscope.engine.scheduler import DISPATCH_CHUNK, Budget, Scheduler
from distillscope.errors import BudgetExhausted
from distillscope.models.spec import build_backend
from distillscope.models.types import ModelRequest
from distillscope.testing.server import FaultPlan


def requests(n: int) -> list[ModelRequest]:
    return [ModelRequest.user(f"question {i}") for i in range(n)]


def run_batch(
    ledger_path: Path, url: str, n: int, max_retries: int = 4, **scheduler_kwargs: Any
) -> list[Any]:
    async def go() -> list[Any]:
        backend = build_backend(f"openai-compatible:m@{url}", max_retries=max_retries, retry_base_s=0.01)
        scheduler = Scheduler(Ledger(ledger_path), **scheduler_kwargs)
        try:
            return await scheduler.map(backend, requests(n), stage="t")
        finally:
            await backend.aclose()
            scheduler.ledger.close()

    return asyncio.run(go())


def test_results_in_order_and_rerun_is_free(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server()
    first = run_batch(tmp_path / "l.sqlite", server.url, 30)
    assert [r.text for r in first] == [f"echo: question {i}" for i in range(30)]
    assert not any(r.cached for r in first)
    second = run_batch(tmp_path / "l.sqlite", server.url, 30)
    assert [r.text for r in second] == [r.text for r in first]
    assert all(r.cached for r in second)
    assert server.stats()["requests"] == 30


def test_concurrency_is_bounded(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server(latency_ms=20)
    run_batch(tmp_path / "l.sqlite", server.url, 40, concurrency=5)
    assert server.stats()["max_inflight"] == 5


def test_identical_requests_in_flight_are_sent_once(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server(latency_ms=20)

    async def go() -> list[Any]:
        backend = build_backend(f"openai-compatible:m@{server.url}")
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
        out = await scheduler.map(backend, [ModelRequest.user("same")] * 10, stage="t")
        await backend.aclose()
        return out

    results = asyncio.run(go())
    assert {r.text for r in results} == {"echo: same"}
    assert server.stats()["requests"] == 1


def test_retries_recover_from_faults(openai_server: Any, tmp_path: Path) -> None:
    # 30% of requests fail; with 10 retries a call fails for good with odds 0.3**11 (about 2e-6).
    faults = FaultPlan(
        rate=0.3, faults=("500", "503", "429-retry-after", "malformed-json", "empty-choices"), seed=3
    )
    server = openai_server(faults=faults)
    results = run_batch(tmp_path / "l.sqlite", server.url, 40, max_retries=10)
    assert all(r.ok for r in results)
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(40)]
    assert sum(server.stats()["faults"].values()) > 0


def test_exhausted_retries_are_errors_not_empty_answers(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server(faults=FaultPlan(rate=1.0, faults=("500",)))
    results = run_batch(tmp_path / "l.sqlite", server.url, 3)
    assert all(not r.ok and "HTTP 500" in (r.error or "") for r in results)
    with pytest.raises(ValueError):
        _ = results[0].text
    assert Ledger(tmp_path / "l.sqlite").counts() == {"error": 3}


def test_retry_after_is_honoured(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server(faults=FaultPlan(rate=1.0, faults=("429-retry-after",)))

    async def go() -> float:
        backend = build_backend(f"openai-compatible:m@{server.url}", max_retries=2)
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
        started = time.monotonic()
        await scheduler.call(backend, ModelRequest.user("x"), stage="t")
        await backend.aclose()
        return time.monotonic() - started

    elapsed = asyncio.run(go())
    assert server.stats()["requests"] == 3
    assert 0.1 <= elapsed < 2.0  # two waits of Retry-After: 0.05 s, not the exponential default


def test_budget_stops_cleanly(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server()
    with pytest.raises(BudgetExhausted, match="call budget of 5"):
        run_batch(tmp_path / "l.sqlite", server.url, 20, budget=Budget(max_calls=5), concurrency=1)
    assert server.stats()["requests"] == 5
    # what was paid for is kept: a rerun with a bigger budget sends only the rest
    run_batch(tmp_path / "l.sqlite", server.url, 20)
    assert server.stats()["requests"] == 20


def test_requests_per_minute_limit(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server()

    async def go() -> float:
        backend = build_backend(
            f"openai-compatible:m@{server.url}", requests_per_minute=600
        )  # 10/s, burst 600
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
        lane = scheduler._lane(backend)
        assert lane.requests is not None
        lane.requests._level = 0  # start empty to observe the refill rate
        started = time.monotonic()
        await scheduler.map(backend, requests(5), stage="t")
        await backend.aclose()
        return time.monotonic() - started

    assert asyncio.run(go()) >= 0.4


def test_usage_and_cost_are_summed(openai_server: Any, tmp_path: Path) -> None:
    server = openai_server()

    async def go() -> dict[str, Any]:
        backend = build_backend(
            f"openai-compatible:m@{server.url}",
            price_per_million_input=1000.0,
            price_per_million_output=2000.0,
        )
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
        await scheduler.map(backend, requests(4), stage="t")
        await backend.aclose()
        return scheduler.totals()

    totals = asyncio.run(go())
    assert totals["calls_sent"] == 4
    assert totals["prompt_tokens"] == 8 and totals["completion_tokens"] == 12  # the server counts words
    assert totals["estimated_cost_usd"] == pytest.approx((8 * 1000 + 12 * 2000) / 1e6)


def test_map_hands_on_each_result_as_it_arrives(openai_server: Any, tmp_path: Path) -> None:
    """`on_result(i, result)`: once per request, ledger answers at once, fresh ones as they finish
    (before `map` returns), so a caller can judge early answers while later calls are in flight."""
    server = openai_server(latency_ms=1, latency_max_ms=30)

    async def go(n: int) -> tuple[list[Any], list[tuple[int, str, bool]]]:
        backend = build_backend(f"openai-compatible:m@{server.url}")
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"), concurrency=4)
        seen: list[tuple[int, str, bool]] = []
        try:
            out = await scheduler.map(
                backend, requests(n), stage="t", on_result=lambda i, r: seen.append((i, r.text, r.cached))
            )
        finally:
            await backend.aclose()
            scheduler.ledger.close()
        return out, seen

    first, seen = asyncio.run(go(12))
    assert sorted(i for i, _, _ in seen) == list(range(12))
    assert {i: text for i, text, _ in seen} == {i: r.text for i, r in enumerate(first)}
    assert [i for i, _, _ in seen] != list(range(12))  # jittered answers arrive out of order
    again, seen = asyncio.run(go(16))  # 12 from the ledger, 4 new
    assert [i for i, _, cached in seen if cached] == list(range(12))
    assert sorted(i for i, _, cached in seen if not cached) == [12, 13, 14, 15]
    assert [r.text for r in again[:12]] == [r.text for r in first]


def test_a_priority_call_takes_the_next_free_slot(openai_server: Any, tmp_path: Path) -> None:
    """A call of higher priority is sent before calls queued ahead of it (the fuzzer's mutations
    jump the queue of probes)."""
    server = openai_server(latency_ms=30)

    async def go() -> list[str]:
        backend = build_backend(f"openai-compatible:m@{server.url}", concurrency=2)
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"))
        finished: list[str] = []

        async def call(text: str, priority: int) -> None:
            await scheduler.call(backend, ModelRequest.user(text), stage="t", priority=priority)
            finished.append(text)

        queued = [asyncio.ensure_future(call(f"probe {i}", 0)) for i in range(6)]
        await asyncio.sleep(0.005)  # two probes in flight, four queued
        urgent = asyncio.ensure_future(call("mutation", 1))
        await asyncio.gather(*queued, urgent)
        await backend.aclose()
        scheduler.ledger.close()
        return finished

    finished = asyncio.run(go())
    assert finished.index("mutation") <= 3  # in the second wave, not after the four queued probes


def test_a_map_longer_than_its_dispatch_chunks_keeps_order_and_the_ledger(
    openai_server: Any, tmp_path: Path
) -> None:
    """`map` keys and looks up its requests a chunk at a time (the later chunks while the first
    calls are out): answers stay in input order, and a rerun answers each finished call from the
    ledger whichever chunk it falls in."""
    server = openai_server(latency_ms=2)
    n = 5 * DISPATCH_CHUNK + 7
    ledger = tmp_path / "l.sqlite"
    seen: list[int] = []

    async def go(which: list[int]) -> list[Any]:
        backend = build_backend(f"openai-compatible:m@{server.url}", retry_base_s=0.01)
        scheduler = Scheduler(Ledger(ledger), concurrency=4)
        try:
            return await scheduler.map(
                backend,
                [requests(n)[i] for i in which],
                stage="t",
                on_result=lambda i, _r: seen.append(i),
            )
        finally:
            await backend.aclose()
            scheduler.ledger.close()

    odd = [i for i in range(n) if i % 3 == 1]
    asyncio.run(go(odd))
    seen.clear()
    every = asyncio.run(go(list(range(n))))
    assert [r.text for r in every] == [f"echo: question {i}" for i in range(n)]
    assert [i for i, r in enumerate(every) if r.cached] == odd
    assert sorted(seen) == list(range(n))  # each answer reported once
    assert server.stats()["requests"] == n  # no finished call sent twice


def test_backends_of_one_endpoint_share_its_slots_and_keep_their_own_settings(
    openai_server: Any, tmp_path: Path
) -> None:
    """An `ice run` target and its default mutator are two backends of one endpoint (the mutator has
    no system prompt): together they never have more calls in flight than the endpoint's
    concurrency, and each call goes out with its own backend's system prompt."""
    server = openai_server(latency_ms=20)

    async def go() -> None:
        spec = f"openai-compatible:m@{server.url}"
        target = build_backend(spec, system_prompt="You are M.")
        mutator = build_backend(spec)
        scheduler = Scheduler(Ledger(tmp_path / "l.sqlite"), concurrency=3)
        try:
            await asyncio.gather(
                scheduler.map(target, requests(12), stage="target"),
                scheduler.map(mutator, [ModelRequest.user(f"mutate {i}") for i in range(12)], stage="mutate"),
            )
        finally:
            await target.aclose()
            await mutator.aclose()
            scheduler.ledger.close()

    asyncio.run(go())
    assert server.stats()["max_inflight"] == 3
    systems = {
        b["messages"][-1]["content"].split()[0]: [
            m["content"] for m in b["messages"] if m["role"] == "system"
        ]
        for b in server.bodies
    }
    assert systems["question"] == ["You are M."] and systems["mutate"] == []


def test_a_budget_stop_lets_the_calls_already_sent_finish_and_records_them(
    openai_server: Any, tmp_path: Path
) -> None:
    """`--max-calls` stops a map once the budget is spent, but a call already sent is waited for and
    recorded: the server may have answered it already, and a rerun must not pay for it again."""
    server = openai_server(latency_ms=40)
    ledger = tmp_path / "l.sqlite"
    with pytest.raises(BudgetExhausted):
        run_batch(ledger, server.url, 10, concurrency=2, budget=Budget(max_calls=3))
    assert server.stats()["requests"] == 3
    assert Ledger(ledger).counts().get("ok") == 3  # every call sent is in the ledger
    again = run_batch(ledger, server.url, 10, concurrency=2)
    assert sum(r.cached for r in again) == 3
    assert server.stats()["finished_twice"] == 0 and server.stats()["requests"] == 10
