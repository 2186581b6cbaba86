"""The OpenAI-compatible test server: its latency counts from a request's arrival, and a server
that keeps no requests (a benchmark's, in its own process) still counts them."""

from __future__ import annotations

import asyncio
import threading
import time

import aiohttp

from distillscope.testing.server import OpenAIServer


async def _ask(url: str, n: int) -> list[float]:
    seconds: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(n):
            started = time.monotonic()
            body = {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]}
            async with session.post(url + "/chat/completions", json=body) as reply:
                assert reply.status == 200
                assert (await reply.json())["choices"][0]["message"]["content"] == f"echo: q{i}"
            seconds.append(time.monotonic() - started)
    return seconds


def test_a_server_that_keeps_no_requests_still_counts_them() -> None:
    with OpenAIServer(latency_ms=1, keep_requests=False) as server:
        asyncio.run(_ask(server.url, 5))
        assert server.settle()
        stats = server.stats()
    assert stats["requests"] == 5 and stats["finished"] == 5
    assert server.bodies == [] and server.headers_seen == []
    assert sum(server.finished_prompts.values()) == 5


def test_a_server_keeps_requests_for_tests_by_default() -> None:
    with OpenAIServer() as server:
        asyncio.run(_ask(server.url, 2))
    assert [b["messages"][0]["content"] for b in server.bodies] == ["q0", "q1"]
    assert len(server.headers_seen) == 2


def test_every_answer_takes_at_least_the_latency() -> None:
    with OpenAIServer(latency_ms=30, latency_max_ms=60) as server:
        seconds = asyncio.run(_ask(server.url, 5))
        mean = server.stats()["mean_latency_s"]
    assert min(seconds) >= 0.03
    assert 0.03 <= mean <= 0.06  # the mean of the seeded draws, reported with the counts


def test_settle_waits_for_the_requests_in_flight() -> None:
    """`settle` is what a test calls before reading `finished`: it returns once no handler is running."""
    with OpenAIServer(latency_ms=300) as server:
        client = threading.Thread(target=lambda: asyncio.run(_ask(server.url, 1)))
        client.start()
        deadline = time.monotonic() + 5
        while server.stats()["requests"] == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert not server.settle(timeout=0.05)  # the answer is still being delayed
        assert server.settle()
        client.join(5)
        assert server.stats()["finished"] == 1
