"""The `recorded` judge: the loose/strict labels already in a log (rescore only).

It reproduces published figures from their own labels, e.g. the paper's GPT-4o-mini verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from distillscope.ice.judges.base import Judge
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict

Labels = tuple[bool | None, bool | None]


class RecordedJudge(Judge):
    name = "recorded"

    def __init__(self, labels: Mapping[int, Labels]) -> None:
        self.labels = labels

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        out = []
        for item in items:
            loose, strict = self.labels.get(item.index, (None, None))
            if loose is False and strict is None:
                strict = False  # strict is a subset of loose
            note = None if loose is not None else "no recorded label"
            out.append(Verdict(loose=loose, strict=strict, judge=self.name, note=note))
        return out
