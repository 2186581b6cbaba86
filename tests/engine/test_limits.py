import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distillscope.engine.limits import PrioritySlots


async def _hold(
    slots: PrioritySlots, name: str, priority: int, order: list[str], gate: asyncio.Event
) -> None:
    async with slots.slot(priority):
        order.append(name)
        await gate.wait()


def test_waiters_are_served_by_priority_then_arrival() -> None:
    async def go() -> list[str]:
        slots = PrioritySlots(1)
        order: list[str] = []
        gate = asyncio.Event()
        first = asyncio.ensure_future(_hold(slots, "first", 0, order, gate))
        await asyncio.sleep(0)  # `first` holds the only slot
        waiters = [
            asyncio.ensure_future(_hold(slots, name, priority, order, gate))
            for name, priority in [("low-a", 0), ("high-a", 1), ("low-b", 0), ("high-b", 1)]
        ]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(first, *waiters)
        return order

    assert asyncio.run(go()) == ["first", "high-a", "high-b", "low-a", "low-b"]


def test_a_cancelled_waiter_gives_its_turn_to_the_next() -> None:
    async def go() -> tuple[list[str], int]:
        slots = PrioritySlots(1)
        order: list[str] = []
        gate = asyncio.Event()
        first = asyncio.ensure_future(_hold(slots, "first", 0, order, gate))
        await asyncio.sleep(0)
        doomed = asyncio.ensure_future(_hold(slots, "doomed", 5, order, gate))
        after = asyncio.ensure_future(_hold(slots, "after", 0, order, gate))
        await asyncio.sleep(0)
        doomed.cancel()
        gate.set()
        await asyncio.gather(first, after)
        with pytest.raises(asyncio.CancelledError):
            await doomed
        return order, slots._free

    order, free = asyncio.run(go())
    assert order == ["first", "after"]
    assert free == 1  # every slot came back


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(1, 4),
    jobs=st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=12),
)
def test_never_more_holders_than_slots_and_every_slot_returns(
    limit: int, jobs: list[tuple[int, bool]]
) -> None:
    """Whatever the priorities and cancellations, at most `limit` hold a slot at once, and all
    slots are free again at the end."""

    async def go() -> tuple[int, int]:
        slots = PrioritySlots(limit)
        holding = peak = 0

        async def job(priority: int) -> None:
            nonlocal holding, peak
            async with slots.slot(priority):
                holding += 1
                peak = max(peak, holding)
                try:
                    await asyncio.sleep(0)
                finally:
                    holding -= 1

        tasks = [asyncio.ensure_future(job(p)) for p, _ in jobs]
        await asyncio.sleep(0)
        for task, (_, cancel) in zip(tasks, jobs, strict=True):
            if cancel:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return peak, slots._free

    peak, free = asyncio.run(go())
    assert peak <= limit
    assert free == limit
