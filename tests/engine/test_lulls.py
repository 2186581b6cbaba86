"""Lulls: work that can wait runs once the run's traffic has paused, never ahead of its first call."""

import asyncio

from distillscope.engine.lulls import Lulls, cancel_quietly


def test_wait_returns_at_once_before_any_traffic() -> None:
    async def go() -> float:
        lulls = Lulls(quiet_s=0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await lulls.wait()
        return loop.time() - started

    assert asyncio.run(go()) < 0.04


def test_wait_lasts_until_the_traffic_has_paused() -> None:
    async def go() -> tuple[float, float]:
        lulls = Lulls(quiet_s=0.03, max_wait_s=5.0)
        loop = asyncio.get_running_loop()

        async def traffic() -> None:
            for _ in range(5):
                lulls.mark()
                await asyncio.sleep(0.01)

        moving = asyncio.ensure_future(traffic())
        await asyncio.sleep(0)  # the first mark
        await lulls.wait()
        waited_until = loop.time()
        await moving
        return waited_until, lulls.last

    waited_until, last = asyncio.run(go())
    assert waited_until >= last + 0.03  # after the last mark, not between two


def _seconds_waited_under_steady_traffic(already_waited_s: float) -> float:
    """How long `wait` takes when the traffic just moved and no lull comes (quiet_s 1 s), for work
    that has already waited `already_waited_s` of its max_wait_s (0.05 s)."""

    async def go() -> float:
        lulls = Lulls(quiet_s=1.0, max_wait_s=0.05)
        loop = asyncio.get_running_loop()
        lulls.mark()
        started = loop.time()
        await lulls.wait(since=started - already_waited_s)
        return loop.time() - started

    return asyncio.run(go())


def test_steady_traffic_gives_way_after_max_wait() -> None:
    assert 0.05 <= _seconds_waited_under_steady_traffic(0.0) < 0.9


def test_wait_counts_max_wait_from_when_the_work_began_waiting() -> None:
    assert _seconds_waited_under_steady_traffic(0.05) < 0.04  # already waited that long


def test_jobs_wait_for_the_first_call_then_run_in_order_and_cancel_drops_the_rest() -> None:
    async def go() -> tuple[list[int], list[int], list[int]]:
        lulls = Lulls(quiet_s=0.001, max_wait_s=1.0)
        done: list[int] = []
        stop = asyncio.Event()

        def job(i: int) -> None:
            done.append(i)
            if i == 2:
                stop.set()

        task = lulls.run_in_lulls([lambda i=i: job(i) for i in range(10)])
        await asyncio.sleep(0.02)
        before_traffic = list(done)
        lulls.mark()
        await stop.wait()
        at_cancel = list(done)
        await cancel_quietly(task)
        await asyncio.sleep(0.02)
        return before_traffic, at_cancel, done

    before_traffic, at_cancel, done = asyncio.run(go())
    assert before_traffic == []  # nothing ahead of the run's first call
    assert at_cancel == [0, 1, 2]
    assert done == [0, 1, 2]  # the rest were dropped


def test_a_failing_job_does_not_escape_cancel_quietly() -> None:
    async def go() -> None:
        lulls = Lulls(quiet_s=0.0)

        def boom() -> None:
            raise RuntimeError("warm-up failed")

        task = lulls.run_in_lulls([boom])
        lulls.mark()
        await asyncio.sleep(0.01)
        await cancel_quietly(task)

    asyncio.run(go())


def test_work_that_has_waited_long_enough_still_hands_the_loop_over() -> None:
    """Past its `max_wait_s` a piece of work no longer waits for a lull, but every `wait` still lets
    the loop run what is ready (an answer that arrived), so a backlog never blocks the loop."""

    async def go() -> list[str]:
        lulls = Lulls(quiet_s=1.0, max_wait_s=0.0)
        lulls.mark()
        order: list[str] = []

        async def backlog() -> None:
            for i in range(3):
                await lulls.wait(since=0.0)
                order.append(f"piece {i}")

        async def answer() -> None:
            order.append("answer")

        await asyncio.gather(backlog(), answer())
        return order

    assert asyncio.run(go())[:2] == ["answer", "piece 0"]
