"""The typed results of `rse attribute` (results.json, `kind: "attribution"`). Every record is a
results `Model`: fields a newer distillscope adds are kept through a load and a save.

Each record refuses what no run writes (as every score of a results file does, `results.base`): a
probability or p-value outside 0 to 1, an interval upside down, a negative count. A hand-edited file
was shown as it stood (`report` printed a family probability of 3.0 with the interval [0.9, 0.1])."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from distillscope.errors import clip
from distillscope.results.base import Model, Result, check_interval, check_proportions, impossible
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

    @model_validator(mode="after")
    def _possible(self) -> FamilyProbability:
        """Both intervals resample the prompt means their point averages, so each holds its point."""
        check_interval(self.score, 0, self.ci95)
        check_proportions(self.score, *self.ci95, self.p_value, self.p_holm)
        check_interval(self.lean, 0, self.lean_ci95, "lean_ci95: ")
        for value in (self.lean, *self.lean_ci95):
            if value is not None and not -1.0 - 1e-6 <= value <= 1.0 + 1e-6:
                raise impossible(f"a lean is a difference of probabilities, -1 to 1; {value} is outside")
        return self


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
        "no-controls: run without control models, so no distillation claim is made"
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

    @model_validator(mode="after")
    def _possible(self) -> Decision:
        """Scores are probabilities, their intervals not upside down (the score averages the
        classifiers' means, the interval each prompt's mean: a score need not lie inside it)."""
        if self.n_controls < 0:
            raise impossible(f"n_controls must not be negative, got {self.n_controls}")
        check_proportions(self.p_value, *(self.scores or {}).values())
        for family, interval in (self.score_ci95 or {}).items():
            check_interval(None, 0, interval, f"score_ci95 of {clip(family)!r}: ")
            check_proportions(*interval, what=f"score_ci95 of {clip(family)!r}: ")
        for family, n in (self.score_n or {}).items():
            if n < 0:
                raise impossible(f"score_n of {clip(family)!r} must not be negative, got {n}")
        return self


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

    @model_validator(mode="after")
    def _possible(self) -> ModelAttribution:
        for name in ("n", "n_prompts", "n_missing"):
            if getattr(self, name) < 0:
                raise impossible(f"{name} must not be negative, got {getattr(self, name)}")
        return self

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

    @model_validator(mode="after")
    def _possible(self) -> HeldOutCheck:
        """The accuracy's interval is widened to hold Wilson's around it, so it holds the accuracy;
        the mean own probability's is a clustered bootstrap: only its order is checked."""
        check_interval(self.accuracy, self.n, self.ci95)
        check_interval(None, 0, self.mean_own_probability_ci95, "mean_own_probability_ci95: ")
        check_proportions(
            self.accuracy, *self.ci95, self.mean_own_probability, *self.mean_own_probability_ci95
        )
        if self.n_prompts is not None and self.n_prompts < 0:
            raise impossible(f"n_prompts must not be negative, got {self.n_prompts}")
        return self


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

    @field_validator("alpha")
    @classmethod
    def _a_level(cls, alpha: float) -> float:
        if not 0.0 < alpha < 1.0:
            raise impossible(f"a significance level is above 0 and below 1, got {alpha}")
        return alpha

    def to_frame(self) -> Any:
        """One row per scored answer from probabilities.jsonl (model, role, family, key, folds,
        `probabilities.<family>`): the per-item records this run has, as every other kind gives."""
        from distillscope.results.frames import jsonl_frame

        return jsonl_frame(self._path, "probabilities.jsonl")
