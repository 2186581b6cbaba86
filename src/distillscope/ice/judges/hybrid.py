"""The hybrid judge: the rules decide, and an LLM judge is asked only where the rules are unsure.

Most answers are plain ("I am GLM, made by Zhipu AI") and the offline rules get them right, so
asking a model about every answer wastes calls; the saved calls are counted and reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from distillscope.ice.judges.base import Judge
from distillscope.ice.judges.llm import LLMJudge
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict


class HybridJudge(Judge):
    on_loop = True  # the rules judge every answer first

    def __init__(self, rules: RulesJudge, llm: LLMJudge) -> None:
        self.rules = rules
        self.llm = llm
        self.name = f"hybrid:{llm.backend.name}"
        self.decided_by_rules = 0
        self.asked_llm = 0
        self.llm_failed = 0

    def warm_jobs(self) -> Sequence[Callable[[], object]]:
        return self.rules.warm_jobs()

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        verdicts = await self.rules.judge_many(items, target)
        unsure = [i for i, v in enumerate(verdicts) if v.unsure or not v.judged]
        self.decided_by_rules += len(items) - len(unsure)
        self.asked_llm += len(unsure)
        answers = await self.llm.judge_many([items[i] for i in unsure], target)
        for i, answer in zip(unsure, answers, strict=True):
            if answer.judged:
                verdicts[i] = answer.model_copy(update={"note": "rules unsure; decided by the LLM judge"})
            else:
                self.llm_failed += 1
                rules = verdicts[i]
                verdicts[i] = rules.model_copy(
                    update={
                        "note": "rules unsure and the LLM judge reply was unparseable: rules verdict kept"
                    }
                )
        return verdicts

    def report(self) -> dict[str, int]:
        return {
            "decided_by_rules": self.decided_by_rules,
            "asked_llm": self.asked_llm,
            "judge_calls_saved": self.decided_by_rules,
            "llm_unparseable": self.llm_failed,
            **{f"llm_{k}": v for k, v in self.llm.report().items()},
        }
