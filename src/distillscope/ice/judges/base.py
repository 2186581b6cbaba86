"""The judge interface and registry: `rules`, `hybrid`, `recorded`, or any model spec (LLM judge)."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict


class Judge(abc.ABC):
    """Decides, for each response, whether it contradicts the target's true identity."""

    name: str

    @abc.abstractmethod
    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        """One verdict per item, in order."""
