"""The records ICE passes between its stages: probes -> prompts -> responses -> verdicts -> scores."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Category(StrEnum):
    """What kind of statement about its own maker a response makes: the categories of the audit
    rubric (Lee et al.'s definition, a logical conflict about who made "I"). The first six are
    contradictions (loose); the rest are not."""

    OTHER_VENDOR = "other-vendor"  # "I am ChatGPT", "developed by OpenAI"
    FICTIONAL_ORG = "fictional-org"  # an invented or wrong maker: "created by NovaMind Labs"
    NO_MAKER = "no-maker"  # denies having any developer: "I was not created by any company"
    WRONG_ORIGIN = "wrong-origin"  # its maker placed where the true organisation is not
    VENDOR_POLICY = "vendor-policy"  # another vendor's rules as its own: "OpenAI's policy, which I follow"
    IMPLIED_VENDOR = (
        "implied-vendor"  # another vendor's products as its maker's: "my creators also made DALL-E"
    )
    NAMED_MODEL_ROLEPLAY = "named-model-roleplay"  # voices another real model under its label, as asked
    PERSONA_NAME_ONLY = "persona-name-only"  # an invented persona name, no maker
    HYPOTHETICAL = "hypothetical"  # quoted, reported or hypothetical speech
    ABOUT_OTHERS = "about-others"  # facts about other companies, not about itself
    CONSISTENT = "consistent"  # its true identity, nothing about identity, or a refusal

    @property
    def contradicts(self) -> bool:
        return self in CONTRADICTIONS


CONTRADICTIONS = frozenset(
    {
        Category.OTHER_VENDOR,
        Category.FICTIONAL_ORG,
        Category.NO_MAKER,
        Category.WRONG_ORIGIN,
        Category.VENDOR_POLICY,
        Category.IMPLIED_VENDOR,
    }
)


class TargetIdentity(BaseModel):
    """Who really built the model under test. `names` are every alias that is *not* a
    contradiction (organisation, products, model names, in every language we know). Part of ICE's
    results.json, so unknown fields are kept as in every results record."""

    model_config = ConfigDict(extra="allow")

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
    """A judge's decision on one response, in three states: yes / no (`loose` True/False, `unsure`
    False), or unsure (`unsure` True: `loose`/`strict` then hold the judge's best guess, which scores
    use as the point estimate while reporting the band every unsure case could move it in).
    `loose` None means unjudged (the judge failed or answered garbage): it is left out of n, never
    counted as a negative. strict implies loose."""

    loose: bool | None
    strict: bool | None
    category: Category | None = None  # what kind of statement decided it (None: unjudged)
    evidence: str | None = None  # the span of the response that carries the claim
    claimed: list[str] = Field(default_factory=list)  # registry families/orgs the response claimed
    judge: str
    unsure: bool = False  # the judge is not sure: a hybrid judge asks an LLM
    note: str | None = None
    # How sure: the judge's calibrated probability that the response is a loose / strict
    # contradiction, with loose == (p_loose >= 0.5) and strict == (p_strict >= 0.5) where set.
    # None: the judge gives no probability (recorded labels, unjudged answers).
    p_loose: float | None = Field(default=None, ge=0.0, le=1.0)
    p_strict: float | None = Field(default=None, ge=0.0, le=1.0)
    truncated: bool = False  # the judge saw the template and response shortened from the middle

    @property
    def judged(self) -> bool:
        return self.loose is not None
