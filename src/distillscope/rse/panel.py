"""A panel of LLM judges: several models rate every pair and one reducer combines their ratings.

A judge whose reply could not be read (after its one retry) has no vote on that pair: it is
*unjudged*, never a low score and never a tie-breaker.

* `majority`: per aspect, the rating that a strict majority of the *whole panel* gave (more than
  half of all judges, not of those that answered), so failures can neither make a majority nor
  break a tie; a pair where any aspect has no such majority is unjudged.
* `mean`: the mean rating of the judges that answered; unjudged only when none did.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from distillscope.rse.llm_judge import LLMSimilarityJudge
from distillscope.rse.types import ASPECTS, AspectScores, PairItem, SimilarityJudge

Reducer = Literal["majority", "mean"]
REDUCERS: tuple[Reducer, ...] = ("majority", "mean")


def reduce_ratings(ratings: Sequence[AspectScores | None], reducer: Reducer) -> AspectScores | None:
    """One pair's panel rating from its judges' ratings (None: that judge is unjudged)."""
    votes = [r for r in ratings if r is not None]
    if not votes:
        return None
    values: dict[str, float] = {}
    for aspect in ASPECTS:
        given = [float(getattr(v, aspect)) for v in votes]
        if reducer == "mean":
            values[aspect] = sum(given) / len(given)
            continue
        value, count = Counter(given).most_common(1)[0]
        if 2 * count <= len(ratings):  # not more than half of the whole panel
            return None
        values[aspect] = value
    evidence = " | ".join(v.evidence for v in votes if v.evidence) or None
    return AspectScores(
        **values,
        overall=sum(values.values()) / len(values),
        raw={"judges_answered": float(len(votes)), "panel": float(len(ratings))},
        evidence=evidence,
    )


class PanelJudge(SimilarityJudge):
    """Every judge rates every pair (each through the scheduler and ledger); `reducer` combines."""

    def __init__(self, judges: Sequence[LLMSimilarityJudge], reducer: Reducer = "majority") -> None:
        if len(judges) < 2:
            raise ValueError("a judge panel needs at least two judges")
        self.judges = list(judges)
        self.reducer = reducer
        self.name = f"panel-{reducer}:" + ",".join(j.backend.name for j in judges)
        self.no_majority = 0

    async def judge_many(self, items: Sequence[PairItem]) -> list[AspectScores | None]:
        per_judge = await asyncio.gather(*(j.judge_many(items) for j in self.judges))
        out: list[AspectScores | None] = []
        for position in range(len(items)):
            ratings = [ratings[position] for ratings in per_judge]
            combined = reduce_ratings(ratings, self.reducer)
            if combined is None and any(r is not None for r in ratings):
                self.no_majority += 1
            out.append(combined)
        return out

    def why_unjudged(self, item: PairItem) -> str | None:
        """No judge rated the pair (each one's cause), or those that did made no majority."""
        causes = [f"{j.backend.name}: {why}" for j in self.judges if (why := j.why_unjudged(item))]
        if len(causes) == len(self.judges):
            return "no judge of the panel rated it (" + "; ".join(causes) + ")"
        n, detail = len(self.judges), "".join(f"; {c}" for c in causes)
        return f"{n - len(causes)} of {n} judges rated it, with no strict majority of all {n} on every aspect{detail}"

    def settings(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": "panel",
            "reducer": self.reducer,
            "judges": [j.settings() for j in self.judges],
        }

    def report(self) -> dict[str, object]:
        return {
            "judges": {j.backend.name: j.report() for j in self.judges},
            "pairs_without_majority": self.no_majority,
        }
