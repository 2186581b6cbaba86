"""The ledger's group commit: the scheduler's writes of one loop turn share one transaction."""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from distillscope.engine.ledger import Ledger
from distillscope.errors import UserError
from distillscope.models.types import ModelResponse


def answer(text: str) -> ModelResponse:
    return ModelResponse(text=text, finish_reason="stop")


def test_grouped_writes_commit_at_end_of_loop_turn_and_reads_see_them(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    other = sqlite3.connect(tmp_path / "l.sqlite")  # another process's view of the file

    async def go() -> None:
        claims = await asyncio.gather(*(ledger.claim_grouped(f"k{i}", "m", "s", "{}") for i in range(20)))
        assert all(claims)
        assert other.execute("SELECT COUNT(*) FROM calls WHERE status='pending'").fetchone()[0] == 20
        for i in range(20):
            ledger.record_ok_grouped(f"k{i}", answer(f"a{i}"), 1)
        assert (
            other.execute("SELECT COUNT(*) FROM calls WHERE status='ok'").fetchone()[0] == 0
        )  # still queued
        entry = ledger.get("k3")  # a read in this process sees its own queued writes
        assert entry is not None and entry.response is not None and entry.response.text == "a3"
        ledger.record_error_grouped("k19", "late failure", 2)  # never overwrites an answer
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(go())
    assert other.execute("SELECT COUNT(*) FROM calls WHERE status='ok'").fetchone()[0] == 20
    assert set(ledger.answers([f"k{i}" for i in range(25)])) == {f"k{i}" for i in range(20)}
    ledger.close()


def test_grouped_claim_respects_finished_and_live_claims(tmp_path: Path) -> None:
    first = Ledger(tmp_path / "l.sqlite")
    second = Ledger(tmp_path / "l.sqlite")
    first.claim("done", "m", "s", "{}")
    first.record_ok("done", answer("x"), 1)
    first.claim("busy", "m", "s", "{}")

    async def go() -> list[bool]:
        return list(
            await asyncio.gather(
                second.claim_grouped("done", "m", "s", "{}"),
                second.claim_grouped("busy", "m", "s", "{}"),  # held by a live process
                second.claim_grouped("new", "m", "s", "{}"),
            )
        )

    assert asyncio.run(go()) == [False, False, True]


def test_cancelled_claim_is_not_written(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")

    async def go() -> None:
        task = asyncio.ensure_future(ledger.claim_grouped("k", "m", "s", "{}"))
        await asyncio.sleep(0)  # queued, not yet flushed
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)

    asyncio.run(go())
    assert ledger.get("k") is None


def test_a_claim_cancelled_during_its_commit_ends_quietly_and_is_taken_over_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C's handler can cancel the run's task while the commit runs (seen in CI as InvalidStateError
    from `flush`): the commit still succeeds, the cancelled caller gets CancelledError, and the claim is
    a row without an answer that the next run takes over."""
    ledger = Ledger(tmp_path / "l.sqlite")
    insert = ledger._insert_claim
    tasks: list[asyncio.Task[bool]] = []

    def insert_then_interrupt(*args: object) -> bool:
        done = insert(*args)  # type: ignore[arg-type]
        tasks[0].cancel()  # what the SIGINT handler does, in the middle of the commit
        return done

    monkeypatch.setattr(ledger, "_insert_claim", insert_then_interrupt)

    async def go() -> None:
        loop = asyncio.get_running_loop()
        errors: list[dict[str, object]] = []
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        tasks.append(asyncio.ensure_future(ledger.claim_grouped("k", "m", "s", "{}")))
        with pytest.raises(asyncio.CancelledError):
            await tasks[0]
        await asyncio.sleep(0)
        assert errors == []  # no "Exception in callback Ledger._flush_soon()"

    asyncio.run(go())
    monkeypatch.undo()
    entry = ledger.get("k")
    assert entry is not None and entry.status == "pending"
    host = ledger.owner.split(":")[0]
    ledger._db.execute(f"UPDATE calls SET owner='{host}:999999999:dead'")  # the interrupted process exited
    again = Ledger(tmp_path / "l.sqlite")  # the rerun takes the orphaned claim over
    assert again.claim("k", "m", "s", "{}") is True


def test_failed_group_commit_reaches_the_caller(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.claim("k", "m", "s", "{}")
    ledger._db.execute("PRAGMA busy_timeout=50")
    locker = sqlite3.connect(tmp_path / "l.sqlite", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past our timeout

    async def go() -> None:
        with pytest.raises(UserError, match="ledger write failed"):
            await ledger.claim_grouped("k2", "m", "s", "{}")
        ledger.record_ok_grouped("k", answer("lost"), 1)
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(go())
    with pytest.raises(UserError, match="ledger write failed"):  # raised by the next ledger call
        ledger.get("k")
    locker.execute("ROLLBACK")
    entry = ledger.get("k")
    assert entry is not None and entry.status == "pending"  # the answer was lost, never half-written
    ledger.close()


def test_a_write_sqlite_cannot_store_rolls_back_and_the_ledger_goes_on(tmp_path: Path) -> None:
    """A value SQLite refuses (text with a lone surrogate, an integer beyond 64 bits) fails its
    group commit as one line, rolled back whole: never "cannot start a transaction within a
    transaction" on the next write, never a claim left half-made."""
    ledger = Ledger(tmp_path / "l.sqlite")

    async def go() -> None:
        assert await ledger.claim_grouped("k1", "m", "s", "{}")
        assert await ledger.claim_grouped("k2", "m", "s", "{}")
        ledger.record_ok_grouped("k1", answer("fine"), 1)
        huge = ModelResponse.model_construct(text="ok", finish_reason="stop", usage=None, latency_s=0.0)
        object.__setattr__(huge, "usage", type("U", (), {"prompt_tokens": 10**30, "completion_tokens": 0})())
        ledger.record_ok_grouped("k2", huge, 1)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        with pytest.raises(UserError, match="ledger write failed"):
            ledger.flush()
        ledger.record_ok_grouped("k2", answer("stored after all"), 1)
        await asyncio.sleep(0)

    asyncio.run(go())
    assert not ledger._db.in_transaction
    assert {k: e.response.text for k, e in ledger.answers(["k1", "k2"]).items() if e.response} == {
        "k2": "stored after all"
    }  # k1's answer shared the failed transaction: rolled back with it, asked again by a rerun
    ledger.close()
