"""The hybrid judge: the rules decide, and an LLM judge is asked only where the rules doubt.

Most answers are plain ("I am GLM, made by Zhipu AI") and the offline rules get them right, so
asking a model about every answer wastes calls; the saved calls are counted and reported.

Two ways to choose what the LLM sees:

* by default, the answers the rules mark unsure (or cannot judge), as they come;
* with an `Escalation` (`--escalate FRACTION` or `--escalate-band LO,HI`), the least certain
  answers by the rules' probability (closeness of p_loose to 0.5, `ice.probability.doubt_p`):
  the k% least certain of all answers, or those whose p lies in the band. A fraction needs every
  probability first, so the run judges everything with the rules, then `select` picks the
  answers and a second pass (`judge_many` again, or `escalate`) asks the LLM about those only,
  through the scheduler and its ledger: a rerun repeats no finished call.

An LLM reply that cannot be read keeps the rules' best guess marked unsure, never a negative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from distillscope.errors import UserError
from distillscope.ice.judges.base import Judge
from distillscope.ice.judges.llm import LLMJudge
from distillscope.ice.judges.rules import RulesJudge
from distillscope.ice.judges.weights import Transfer
from distillscope.ice.probability import certainty
from distillscope.ice.types import JudgeItem, TargetIdentity, Verdict
from distillscope.naming import Naming, flag


def _check(fraction: float | None, band: tuple[float, float] | None, name: Naming) -> None:
    if (fraction is None) == (band is None):
        raise UserError(f"give one of {name('escalate', 'FRACTION')} or {name('escalate_band', 'LO,HI')}")
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        raise UserError(f"{name('escalate')} must be a fraction from 0 to 1, got {fraction}")
    if band is not None:
        lo, hi = band
        if not 0.0 <= lo <= 0.5 <= hi <= 1.0:
            raise UserError(f"{name('escalate_band', f'{lo},{hi}')}: expected 0 <= LO <= 0.5 <= HI <= 1")


@dataclass(frozen=True)
class Escalation:
    """Which answers go to the LLM: the `fraction` least certain of all, or those whose p_loose
    lies in `band` (inclusive)."""

    fraction: float | None = None
    band: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check(self.fraction, self.band, flag)

    @classmethod
    def parse(cls, fraction: float | None, band: str | None, name: Naming = flag) -> Escalation | None:
        """From the CLI flags or the API's keywords (None when neither is given); errors name the
        setting as `name` does."""
        if fraction is None and band is None:
            return None
        bounds = None
        if band is not None:
            parts = band.split(",")
            try:
                lo, hi = (float(p) for p in parts)
            except ValueError:
                raise UserError(f"{name('escalate_band', band)}: expected LO,HI, e.g. 0.3,0.7") from None
            bounds = (lo, hi)
        _check(fraction, bounds, name)
        return cls(fraction=fraction, band=bounds)

    def describe(self, chosen: int | None = None, of: int | None = None) -> str:
        """What was escalated, in words that stay true: the percentage with as many digits as it
        has (`--escalate 1e-9` is 1e-07%, never "0%"), and with the counts, how many of how many
        (the count is rounded up, so 1e-9 of 40 answers sends 1)."""
        if self.fraction is not None:
            share = f"{self.fraction * 100:g}%"
            if chosen is None or of is None:
                return f"the {share} least certain answers, rounded up"
            answers = "answer" if chosen == 1 else "answers"
            return f"the {chosen} least certain {answers} of {of}: {share} of all, rounded up"
        assert self.band is not None
        return f"answers with p_loose in [{self.band[0]:g}, {self.band[1]:g}]"

    def select(self, ps: Sequence[float]) -> list[int]:
        """Positions of the answers to escalate, given each answer's p_loose (ties: first come)."""
        if self.band is not None:
            lo, hi = self.band
            return [i for i, p in enumerate(ps) if lo <= p <= hi]
        assert self.fraction is not None
        # rounded up (less a hair, so that 0.3 of 10 is 3, not 4), and a positive fraction sends at
        # least one: 1e-12 of 40 answers sent none, while the results said "rounded up"
        k = min(len(ps), math.ceil(self.fraction * len(ps) - 1e-9))
        if self.fraction > 0:
            k = max(k, min(1, len(ps)))
        order = sorted(range(len(ps)), key=lambda i: (certainty(ps[i]), i))
        return sorted(order[:k])


class HybridJudge(Judge):
    on_loop = True  # the rules judge every answer first

    def __init__(self, rules: RulesJudge, llm: LLMJudge, escalation: Escalation | None = None) -> None:
        self.rules = rules
        self.llm = llm
        self.escalation = escalation
        self.name = f"hybrid:{llm.backend.name}"
        # with an escalation: the item indices `select` chose (judge_many asks the LLM about them)
        self.selected: set[int] = set()
        self.decided_by_rules = 0
        self.asked_llm = 0
        self.llm_failed = 0
        self.considered = 0  # answers the escalation chose from

    def warm_jobs(self) -> Sequence[Callable[[], object]]:
        return self.rules.warm_jobs()

    def transfer(self) -> tuple[str, Transfer] | None:
        return self.rules.transfer()  # it applies where the rules decided every answer

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        verdicts = await self.rules.judge_many(items, target)
        if self.escalation is None:
            ask = [i for i, v in enumerate(verdicts) if v.unsure or not v.judged]
            note = "rules unsure; decided by the LLM judge"
        else:
            ask = [i for i, item in enumerate(items) if item.index in self.selected]
            note = f"escalated ({self.escalation.describe(len(self.selected), self.considered)}); decided by the LLM judge"
        self.decided_by_rules += len(items) - len(ask)
        return await self._ask(items, verdicts, ask, target, note)

    def select(self, indices: Sequence[int], ps: Sequence[float]) -> list[int]:
        """Choose, from the rules' p_loose of every answer (`doubt_p` of its verdict), the item
        indices the escalation sends to the LLM, and remember them for `judge_many`."""
        assert self.escalation is not None
        chosen = [indices[i] for i in self.escalation.select(ps)]
        self.selected = set(chosen)
        self.considered = len(indices)
        return chosen

    async def escalate(
        self, items: Sequence[JudgeItem], verdicts: list[Verdict], target: TargetIdentity
    ) -> None:
        """The second pass of a run: the LLM's verdicts replace the rules' on the selected items
        (`verdicts` in the order of `items`, updated in place)."""
        assert self.escalation is not None
        ask = [i for i, item in enumerate(items) if item.index in self.selected]
        self.decided_by_rules -= len(ask)  # judge_many counted them as the rules' in the first pass
        note = f"escalated ({self.escalation.describe(len(self.selected), self.considered)}); decided by the LLM judge"
        await self._ask(items, verdicts, ask, target, note)

    async def _ask(
        self,
        items: Sequence[JudgeItem],
        verdicts: list[Verdict],
        ask: list[int],
        target: TargetIdentity,
        note: str,
    ) -> list[Verdict]:
        self.asked_llm += len(ask)
        answers = await self.llm.judge_many([items[i] for i in ask], target)
        for i, answer in zip(ask, answers, strict=True):
            if answer.judged:
                verdicts[i] = answer.model_copy(update={"note": note})
            else:
                self.llm_failed += 1
                verdicts[i] = verdicts[i].model_copy(
                    update={
                        "unsure": verdicts[i].judged,
                        "note": f"the LLM judge could not judge it ({answer.note}): the rules' best guess, unsure",
                    }
                )
        return verdicts

    def report(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.escalation is not None:
            out["escalation"] = self.escalation.describe(len(self.selected), self.considered)
            out["escalated"] = len(self.selected)
        return {
            **out,
            "decided_by_rules": self.decided_by_rules,
            "asked_llm": self.asked_llm,
            "judge_calls_saved": self.decided_by_rules,
            # answers the LLM judge left unjudged, its call failed or its reply unreadable (the notes say
            # which); the old key, which named only the second cause, is kept for readers of 0.x results
            "llm_unjudged": self.llm_failed,
            "llm_unparseable": self.llm_failed,
            **{f"llm_{k}": v for k, v in self.llm.report().items()},
        }
