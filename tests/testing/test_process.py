"""The test server in a process of its own: it listens when started, and reports its counts when
stopped (none when killed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from distillscope.testing.process import server_process, start_server_process


async def _ask(url: str, n: int) -> None:
    async with aiohttp.ClientSession() as session:
        for i in range(n):
            body = {"model": "m", "messages": [{"role": "user", "content": f"q{i}"}]}
            async with session.post(url + "/chat/completions", json=body) as reply:
                assert reply.status == 200


def test_a_stopped_server_reports_what_it_answered(tmp_path: Path) -> None:
    with server_process(tmp_path, latency_ms=1, reply="template") as server:
        asyncio.run(_ask(server.url, 3))
    counts = server.stop()  # stopped on exit already: the same counts again
    assert counts["requests"] == 3 and counts["finished"] == 3
    assert counts["finished_by_prompt"] == {"q0": 1, "q1": 1, "q2": 1}


def test_a_killed_server_reports_nothing(tmp_path: Path) -> None:
    server = start_server_process(tmp_path, name="doomed")
    server.kill()
    assert server.stop() == {}
