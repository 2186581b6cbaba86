"""The default offline judge (`--judge rules`): signals -> scorer -> calibration.

1. Signals (`signals/`): the rule reader reads the answer's identity claims (voices, vendor and
   maker mentions and their tiers, denials, invented makers, places, policies) and gives its own
   category and yes/no; `signals/features.py` turns that reading and the text (hashed n-grams with
   the target's own and other vendors' names as placeholders) into numbers.
2. Scorer (`scorer.py`): a logistic regression per label (loose, strict) over those numbers, with
   the weights shipped in the package (`weights.py`, rebuilt by scripts/build_judge_weights.py).
3. Calibration (`calibration.py`): Platt scaling fitted on audited rows of models the scorer was
   not trained on, so `p_loose` / `p_strict` are probabilities.

The verdict: `loose == (p_loose >= 0.5)`, `strict == (p_strict >= 0.5)` (p_strict <= p_loose, so
strict implies loose), `unsure` when p_loose falls in the weights' doubt band. The category and
evidence are the reader's when they agree with the decision; where the scorer overrules the reader,
the category says the kind of statement the decision rests on and the note says it was overruled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

from distillscope.ice.identity import IdentityRegistry
from distillscope.ice.judges.base import Judge
from distillscope.ice.judges.scorer import Scorer
from distillscope.ice.judges.signals.features import FeatureMaker
from distillscope.ice.judges.signals.reader import RuleReader, RuleReading
from distillscope.ice.judges.signals.text import visible_text
from distillscope.ice.judges.weights import ScorerWeights, Transfer, builtin_weights
from distillscope.ice.types import Category, JudgeItem, TargetIdentity, Verdict

__all__ = ["RulesJudge", "visible_text"]

YIELD_EVERY = 4  # answers judged between two turns of the event loop (~0.3 ms each)


class RulesJudge(Judge):
    """Offline, deterministic judge with a calibrated probability on every verdict."""

    name = "rules"
    on_loop = True

    def __init__(
        self, registry: IdentityRegistry | None = None, weights: ScorerWeights | str | Path | None = None
    ) -> None:
        self.registry = registry or IdentityRegistry.builtin()
        self.weights_path: str | None = None
        if weights is None:
            weights = builtin_weights()
        elif not isinstance(weights, ScorerWeights):
            self.weights_path = str(weights)
            weights = ScorerWeights.load(weights)
        self.weights = weights
        self.reader = RuleReader(self.registry)
        self.features = FeatureMaker(weights.config)
        self.scorer = Scorer(weights)

    def warm_jobs(self) -> list[Callable[[], object]]:
        return self.reader.warm_jobs()

    def transfer(self) -> tuple[str, Transfer] | None:
        spread = self.weights.heads["loose"].transfer
        return None if spread is None else (self.name, spread)

    async def judge_many(self, items: Sequence[JudgeItem], target: TargetIdentity) -> list[Verdict]:
        """Judged on the event loop, which is handed back every `YIELD_EVERY` answers (about a
        millisecond): a batch of answers judged in one go would hold up the run's network calls."""
        verdicts: list[Verdict] = []
        for n, item in enumerate(items, start=1):
            verdicts.append(self.judge_one(item, target))
            if n % YIELD_EVERY == 0 and n < len(items):
                await asyncio.sleep(0)
        return verdicts

    def judge_one(self, item: JudgeItem, target: TargetIdentity) -> Verdict:
        reading = self.reader.read(item, target)
        p_loose, p_strict = self.scorer.probabilities(self.features.make(reading, item.query))
        return self.verdict(reading, p_loose, p_strict)

    def verdict(self, reading: RuleReading, p_loose: float, p_strict: float) -> Verdict:
        p_loose, p_strict = round(p_loose, 6), round(p_strict, 6)  # the stored value decides
        loose, strict = p_loose >= 0.5, p_strict >= 0.5
        lo, hi = self.weights.doubt
        category, evidence, note = reading.category, reading.evidence, reading.note
        if loose != reading.category.contradicts:
            note = f"the scorer overruled the rules' reading ({reading.category.value})"
            if loose:  # the rules found no contradiction, the scorer does
                category = Category.OTHER_VENDOR if reading.other_mentions else Category.FICTIONAL_ORG
            else:
                category = Category.HYPOTHETICAL if reading.unsure else Category.CONSISTENT
                evidence = evidence if reading.unsure else None
        # built without validation: every field is set here from values of the right type and range
        # (a copy of a blank verdict with them set costs half of `Verdict.model_construct`)
        return _BLANK.model_copy(
            update={
                "loose": loose,
                "strict": strict,
                "category": category,
                "evidence": evidence,
                "claimed": list(reading.claimed) if loose else [],
                "judge": self.name,
                "unsure": lo < p_loose < hi,
                "note": note,
                "p_loose": p_loose,
                "p_strict": p_strict,
            }
        )


_BLANK = Verdict.model_construct()  # `truncated` at its default; the rest set by each copy
