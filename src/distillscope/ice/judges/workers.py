"""The rules judge in worker processes, so that a rescore uses every core.

The rules judge is mostly pure Python (~0.3 ms an answer): an `ice rescore` of 100,000 responses is mostly
judging, and two workers on 2 cores make it 1.4x faster (bench/README.md). `WorkerJudge` sends each
batch to worker processes, the same judge code with the same registry, so the verdicts are identical
(a test compares them). `ice run` can use them too (`--judge-workers N`), off by default.

Workers are started with `spawn` (no fork of a process that may run threads) when the judge is
made, so they boot while the run sets up and sends its first calls; they ignore SIGINT (Ctrl-C
stops the run, which stops them, without a traceback from every worker).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from distillscope.engine.cores import ignore_sigint, usable_cores
from distillscope.ice.judges.base import Judge
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict

log = logging.getLogger("distillscope")

if TYPE_CHECKING:  # the rules judge and the process pool load only when workers are used
    from concurrent.futures import Future

    from distillscope.ice.identity import IdentityRegistry
    from distillscope.ice.judges.rules import RulesJudge
    from distillscope.ice.judges.weights import ScorerWeights, Transfer

# Responses a rescore should have before workers pay for their start (~0.2 s of a core each).
# `ice run` judges on the event loop unless told otherwise: measured on 2 cores against a local
# server (bench/README.md), a worker did not shorten its dispatch at concurrency 32 or 128 (a third
# busy process beside the client and the server, every batch pickled both ways) and cost ~60 ms to
# start. `--judge-workers 1` is there for a loop that judging keeps busy (a fast remote endpoint).
AUTO_MIN_ANSWERS = 300
_WORKER: RulesJudge | None = None  # the judge of this worker process


def rescore_workers(answers: int) -> int:
    """`--judge-workers auto` for a rescore: one per core (at most 8; the reading process mostly
    waits for them) on two cores or more, for a log of at least AUTO_MIN_ANSWERS responses."""
    cores = usable_cores()
    return min(8, cores) if cores >= 2 and answers >= AUTO_MIN_ANSWERS else 0


def _start(registry: IdentityRegistry, weights: ScorerWeights) -> None:
    from distillscope.ice.judges.rules import RulesJudge

    ignore_sigint()
    global _WORKER
    _WORKER = RulesJudge(registry, weights)


def _judge(items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
    assert _WORKER is not None, "worker not started"
    return [_WORKER.judge_one(item, target) for item in items]


def _ready() -> bool:
    return _WORKER is not None


class WorkerJudge(Judge):
    """`RulesJudge` in `workers` processes; a batch is split across them in contiguous parts."""

    def __init__(self, judge: RulesJudge, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.name = judge.name
        self.workers = max(1, workers)
        self._local = judge  # the same judge, for when the workers are gone
        self._broken = False
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(judge.registry, judge.weights),  # the same weights, whatever file they came from
        )
        # boot every worker now, while the run sets up: the first batch then finds them ready
        self._warm: list[Future[bool]] = [self._pool.submit(_ready) for _ in range(self.workers)]

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        if not items:
            return []
        loop = asyncio.get_running_loop()
        size = -(-len(items) // self.workers)  # ceiling: at most `workers` parts
        parts = [list(items[i : i + size]) for i in range(0, len(items), size)]
        from concurrent.futures.process import BrokenProcessPool  # loaded with the pool already

        if not self._broken:
            try:
                done = await asyncio.gather(
                    *(loop.run_in_executor(self._pool, _judge, part, target) for part in parts)
                )
                return [verdict for part in done for verdict in part]
            except BrokenProcessPool:  # a worker was killed (memory, a signal): judge here instead
                self._broken = True
                log.warning("a judge worker process died; judging on in the main process")
        return await self._local.judge_many(items, target)

    def transfer(self) -> tuple[str, Transfer] | None:
        return self._local.transfer()  # the workers hold the same weights

    def close(self) -> None:
        """Stop the workers (queued batches are dropped: a stopped run judges no further)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def with_workers(judge: Judge, workers: int) -> Judge:
    """`judge` in `workers` worker processes when it is the rules judge and workers > 0, else itself."""
    if workers <= 0 or judge.name != "rules":
        return judge
    from distillscope.ice.judges.rules import RulesJudge

    return WorkerJudge(judge, workers) if type(judge) is RulesJudge else judge


def close_judge(judge: Judge) -> None:
    """Stop a judge's worker processes, if it has any."""
    if isinstance(judge, WorkerJudge):
        judge.close()
