"""The judge interface and registry: `rules`, `hybrid`, `recorded`, or any model spec (LLM judge)."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict

if TYPE_CHECKING:
    from distillscope.ice.judges.weights import Transfer


class Judge(abc.ABC):
    """Decides, for each response, whether it contradicts the target's true identity."""

    name: str
    # True for a judge whose work is CPU on the event loop's own thread (the rules): a run then
    # judges in the lulls between bursts of answers (engine/lulls.py), not in the middle of one.
    on_loop: bool = False

    def transfer(self) -> tuple[str, Transfer] | None:
        """How far the expected loose rate of a judge's verdicts moved between the models it was
        built from, and the name its verdicts carry (the default judge's weights hold it): scores of
        verdicts all by that judge then also get the interval that allows for it. None: unmeasured."""
        return None

    @abc.abstractmethod
    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        """One verdict per item, in order."""

    def warm_jobs(self) -> Sequence[Callable[[], object]]:
        """Small pieces of set-up (compiling patterns) the judge would otherwise do at its first
        answers, for a run to do ahead in the lulls of its traffic. None by default."""
        return ()
