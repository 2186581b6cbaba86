"""The records ICE passes between its stages: probes -> prompts -> responses -> verdicts -> scores."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TargetIdentity(BaseModel):
    """Who really built the model under test. `names` are every alias that is *not* a
    contradiction (organisation, products, model names, in every language we know)."""

    organisation: str
    family: str | None = None
    names: list[str] = Field(default_factory=list)
    statement: str = ""  # one sentence for LLM judges, e.g. "You were developed by Zhipu AI (GLM)."


class JudgeItem(BaseModel):
    """One response to judge. `prompt` is the full text sent (template + question)."""

    index: int
    prompt: str
    query: str
    response: str


class Verdict(BaseModel):
    """A judge's decision on one response. `None` means unjudged (the judge failed or
    answered garbage): it is left out of n, never counted as a negative."""

    loose: bool | None
    strict: bool | None
    evidence: str | None = None  # the span of the response that carries the claim
    claimed: list[str] = Field(default_factory=list)  # registry families/orgs the response claimed
    judge: str
    unsure: bool = False  # rules judge: a hybrid judge should ask an LLM
    note: str | None = None

    @property
    def judged(self) -> bool:
        return self.loose is not None
