"""The records RSE passes between its stages: prompts -> response pairs -> aspect scores -> summaries."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from pydantic import BaseModel, Field

from distillscope.models.types import Message

ASPECTS = ("style", "logic", "content")
MAX_JUDGE_CHARS = 100_000  # characters of each answer the offline judge reads by default


class Prompt(BaseModel):
    """One prompt of a dataset. `messages` is the conversation to send (for multi-turn sets the
    recorded history up to the turn being answered); `id` is stable across runs and samples."""

    id: str
    dataset: str
    messages: tuple[Message, ...]
    meta: dict[str, str] = Field(default_factory=dict)
    followups: tuple[str, ...] = Field(
        default=(), description="user turns asked after the model's own answer (MT-bench turn 2)"
    )

    @property
    def text(self) -> str:
        users = [m.content for m in self.messages if m.role == "user"]
        return users[-1] if users else ""


class PairItem(BaseModel):
    """A test response to compare against the reference response for the same prompt."""

    prompt_id: str
    prompt: str
    reference: str
    candidate: str


# keys of `AspectScores.raw` that count how a rating was made, not how similar two answers are: the
# LLM judge's orders judged (0 for identical texts, 1 or 2 with --swap) and a panel's judges that
# answered and its size. They are kept in judgments.jsonl; contrast never takes them for a measure.
RAW_COUNTS = frozenset({"orders", "judges_answered", "panel"})


class AspectScores(BaseModel):
    """Similarity on the paper's 1-5 scale per aspect; `overall` is their mean.
    `raw` keeps un-mapped measurements (e.g. cosine) for contrast and evidence."""

    style: float
    logic: float
    content: float
    overall: float
    raw: dict[str, float] = Field(default_factory=dict)
    evidence: str | None = None


class SimilarityJudge(abc.ABC):
    """Rates how similar each candidate is to its reference. `None` in the output means
    unjudged (a judge that failed or answered garbage), never a low score."""

    name: str

    @abc.abstractmethod
    async def judge_many(self, items: Sequence[PairItem]) -> list[AspectScores | None]:
        """One result per item, in order."""

    def why_unjudged(self, item: PairItem) -> str | None:
        """The note for a pair `judge_many` left unjudged, naming the cause where the judge knows it
        (a failed call, an unreadable reply), not both as maybes; None: it does not say."""
        return None
