"""`ice run` and `ice rescore` results: loose, strict and hard scores per target, with breakdowns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from distillscope.ice.types import TargetIdentity
from distillscope.results.base import Model, Result, Score
from distillscope.results.registry import register

ICE_LEVELS = ("loose", "strict", "hard")


class IceScores(Model):
    """The three ICE scores of one group of responses (a target, or one breakdown value)."""

    loose: Score
    strict: Score
    hard: Score

    def items(self) -> list[tuple[str, Score]]:
        return [(level, getattr(self, level)) for level in ICE_LEVELS]


class CategoryScores(Model):
    """Loose and strict counted for one rubric category, over all judged responses (the parts sum to
    the scores); `responses` is how many judged responses got that category."""

    responses: int = 0
    contradiction: bool | None = None  # whether the category is a contradiction (None: unknown)
    loose: Score
    strict: Score
    n_unsure: int = 0


class IceTarget(Model):
    """One target's scores (a mixed rescore log holds several)."""

    target: str | None = None
    target_identity: TargetIdentity
    judge: str
    n_responses: int
    n_failed: int = 0
    n_judged: int
    n_unjudged: int
    n_empty: int = 0  # answers that were empty: never judged, not in n
    n_filtered: int = 0  # answers a content filter stopped: never judged, not in n
    n_unsure: int | None = None  # judged responses the judge was unsure of
    categories: dict[str, CategoryScores] = Field(default_factory=dict)
    categories_note: str | None = None  # e.g. a judge that gives no category
    scores: IceScores
    breakdowns: dict[str, dict[str, IceScores]] = Field(default_factory=dict)  # dim -> value -> scores
    judge_calls: dict[str, Any] | None = None
    log_complete: bool | None = None  # rescore: False when the log held only part of a run
    note: str | None = None


@register
class IceResult(Result):
    """results.json of `ice run` / `ice rescore`. A single target's fields are at the top level;
    a rescore of a log that mixes models has `target` None and one `IceTarget` per model in
    `models`. `targets` gives the list either way."""

    kind: Literal["ice"] = "ice"
    target: str | None = None
    target_identity: TargetIdentity | None = None
    judge: str = ""
    n_responses: int = 0
    n_failed: int | None = None
    n_judged: int | None = None
    n_unjudged: int | None = None
    n_empty: int | None = None
    n_filtered: int | None = None
    n_unsure: int | None = None
    categories: dict[str, CategoryScores] = Field(default_factory=dict)
    categories_note: str | None = None
    scores: IceScores | None = None
    breakdowns: dict[str, dict[str, IceScores]] = Field(default_factory=dict)
    judge_calls: dict[str, Any] | None = None
    log_complete: bool | None = None
    note: str | None = None
    models: dict[str, IceTarget] | None = None
    mode: str | None = None  # ice run: fuzz, grid or plain (None: rescore)
    target_queries: int | None = None

    @property
    def targets(self) -> list[IceTarget]:
        if self.models is not None:
            return [m.model_copy(update={"target": m.target or name}) for name, m in self.models.items()]
        if self.scores is None or self.target_identity is None:
            return []
        return [
            IceTarget(
                target=self.target, target_identity=self.target_identity, judge=self.judge,
                n_responses=self.n_responses, n_failed=self.n_failed or 0, n_judged=self.n_judged or 0,
                n_unjudged=self.n_unjudged or 0, n_empty=self.n_empty or 0, n_filtered=self.n_filtered or 0,
                n_unsure=self.n_unsure, categories=self.categories, categories_note=self.categories_note,
                scores=self.scores, breakdowns=self.breakdowns,
                judge_calls=self.judge_calls, log_complete=self.log_complete, note=self.note,
            )
        ]  # fmt: skip

    def to_frame(self) -> Any:
        """One row per response: its verdict (`index`, `loose`, `strict`, `hard`, `evidence`,
        `judge`, ...) from verdicts.jsonl, and for `ice run` what was asked and answered
        (`template_id`, `probe_id`, `language`, `prompt`, `response`, ...) from responses.jsonl."""
        from distillscope.results.frames import jsonl_frame

        verdicts = jsonl_frame(self._path, "verdicts.jsonl")
        if self._path is None or not (self._path / "responses.jsonl").is_file() or verdicts.empty:
            return verdicts
        responses = jsonl_frame(self._path, "responses.jsonl")
        shared = [c for c in responses.columns if c in verdicts.columns and c != "index"]
        return verdicts.merge(responses.drop(columns=shared), on="index", how="left")
