"""The typed results of `rse attribute` (results.json, `kind: "attribution"`). Every record is a
results `Model`: fields a newer distillscope adds are kept through a load and a save."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from distillscope.results.base import Model, Result
from distillscope.results.registry import register
from distillscope.rse.banks.types import BankSummary


class FamilyProbability(Model):
    """How much a test model's answers resemble one family's."""

    score: float | None = Field(description="mean over prompts of the cross-fitted P(family)")
    ci95: tuple[float | None, float | None] = Field(
        description="expanded percentile bootstrap over prompts (Student's t below 6)"
    )
    p_value: float = Field(description="one-sided sign-flip p of 'no more like this family than the others'")
    p_holm: float = Field(description="p_value after Holm's correction over the families")
    lean: float | None = Field(default=None, description="mean of P(family) - mean P(other families)")
    lean_ci95: tuple[float | None, float | None] = Field(
        default=(None, None), description="the lean's 95% interval, bootstrap over prompts"
    )


class Decision(Model):
    """ "Distilled from F?" decided against independent control models, not only against the
    other families: a writer may lean to F as much as independent models do without any F data."""

    distilled_from: str | None = Field(
        description="the family this model resembles more than the independent controls do, or null"
    )
    p_value: float | None = Field(description="p of 'no more like the family than the controls are'")
    n_controls: int = Field(description="independent control models the decision was tested against")
    resembles: str | None = Field(description="the family the writing resembles most (no claim of training)")
    status: Literal["distilled", "several", "resembles", "independent", "abstain", "no-controls"] = Field(
        description="distilled: beats the controls for one family; several: beats them for more than one "
        "family, so none is named; resembles: leans to a family no more than the "
        "controls do; independent: leans to no family; abstain: too few prompts or controls; "
        "no-controls: run without --control, so no distillation claim is made"
    )
    reason: str | None = None
    scores: dict[str, float] | None = Field(
        default=None,
        description="per family: the resemblance score used to rank models, mean P(family rather than "
        "independent) from the classifiers trained on the family against the controls (each without "
        "this model and one control); null without a test against controls",
    )
    score_ci95: dict[str, tuple[float | None, float | None]] | None = Field(
        default=None,
        description="per family: the score's 95% interval, bootstrap over prompts of each prompt's P averaged "
        "over the classifiers (Student's t below 6 prompts)",
    )
    score_n: dict[str, int] | None = Field(
        default=None, description="per family: the prompts the score averages"
    )


class ModelAttribution(Model):
    predicted: str | None = Field(
        description="the family the writing resembles most (highest mean P(family)); null only when no "
        "prompt was scored. Resemblance is not a claim of training: see `decision`"
    )
    significant: bool = Field(
        default=False,
        description="the lean to `predicted` is the single one below alpha after Holm's correction; the "
        "test is over prompts, not models (see held_out_members and decision)",
    )
    probabilities: dict[str, FamilyProbability]
    n: int = Field(description="answers scored")
    n_prompts: int = Field(description="prompts (resampling units) scored")
    n_missing: int = 0
    decision: Decision | None = Field(
        default=None, description="the distillation decision against the controls (see Decision)"
    )

    @property
    def resembles(self) -> str | None:
        """`predicted` when its lean is significant over prompts, else None."""
        return self.predicted if self.significant else None

    def predicted_label(self) -> str:
        """How `predicted` is shown: the family, marked "n.s." when its lean is not significant."""
        if self.predicted is None:
            return "— (no prompts)"
        return self.predicted if self.significant else f"{self.predicted} (n.s.)"


class HeldOutCheck(Model):
    """Can the classifier tell the families apart at all? Their own answers, out of fold."""

    accuracy: float | None
    mean_own_probability: float | None
    n: int
    # the accuracy's bootstrap 95% interval, resampling prompts (a prompt's answers by the family's
    # models, and its turns, are drawn together: they are not independent)
    ci95: tuple[float | None, float | None] = (None, None)
    n_prompts: int | None = None
    # the same interval for mean_own_probability
    mean_own_probability_ci95: tuple[float | None, float | None] = (None, None)


class TellingFeature(Model):
    feature: str
    weight: float


@register
class AttributionResult(Result):
    """results.json of `rse attribute` (`kind`, `schema_version`, settings, `complete`, `stop_reason`
    and `run` as every result has them)."""

    kind: Literal["attribution"] = "attribution"
    families: list[str]
    members: dict[str, list[str]] = Field(description="family -> the models whose answers define it")
    models: dict[str, ModelAttribution] = Field(default_factory=dict)
    alpha: float = 0.05
    held_out: dict[str, HeldOutCheck] = Field(default_factory=dict)
    held_out_members: dict[str, ModelAttribution] = Field(
        default_factory=dict,
        description="family member -> its attribution by classifiers fitted without its answers "
        "(families with two or more members; at most two a family, drawn by the seed, the others named "
        "in a warning): a member not attributed to its own family means the "
        "classifier learned those models more than their family's style, and `predicted` is not "
        "protected against an independent model's own lean",
    )
    controls: dict[str, ModelAttribution] = Field(
        default_factory=dict,
        description="control -> its attribution and decision with itself left out of the controls: "
        "the run's own false-positive check",
    )
    evidence: dict[str, list[TellingFeature]] = Field(default_factory=dict)
    bank: BankSummary | None = Field(
        default=None,
        description="--bank runs: the bank, its models per family, its controls, and the models left out and why",
    )
    datasets: dict[str, Any] = Field(default_factory=dict)
    missing: dict[str, Any] = Field(default_factory=dict)
    method: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    complete: bool = False

    def to_frame(self) -> Any:
        """One row per scored answer from probabilities.jsonl (model, role, family, key, folds,
        `probabilities.<family>`): the per-item records this run has, as every other kind gives."""
        from distillscope.results.frames import jsonl_frame

        return jsonl_frame(self._path, "probabilities.jsonl")
