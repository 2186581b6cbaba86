"""`distillscope study` results: every target's ICE result and its RSE scores against the reference."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from distillscope.results.base import Model, Result
from distillscope.results.ice import IceResult
from distillscope.results.registry import register
from distillscope.results.rse import RseModelScores, RseResult
from distillscope.rse.attribution.types import AttributionResult, ModelAttribution


class StudyTarget(Model):
    """One target of a study: its ICE run and its similarity to the reference."""

    model: str  # the spec or config name the study gave
    ice: IceResult | None = None
    ice_dir: str | None = None  # relative to the study directory
    rse: RseModelScores | None = None  # this target's entry of the study's RSE result
    attribution: ModelAttribution | None = None  # this target's entry of the study's attribution


@register
class StudyResult(Result):
    """DIR/results.json of a study: one entry per target, and the one RSE run they share."""

    kind: Literal["study"] = "study"
    reference: str | None = None
    foils: list[str] = Field(default_factory=list)
    targets: dict[str, StudyTarget] = Field(default_factory=dict)
    rse: RseResult | None = None  # the RSE run all targets share
    rse_dir: str | None = None
    attribution: AttributionResult | None = None  # the attribution run all targets share (`attribute:`)
    attribution_dir: str | None = None

    def to_frame(self) -> Any:
        """Every target's ICE verdicts in one DataFrame, with a `target` column."""
        import pandas as pd

        frames = []
        for name, entry in self.targets.items():
            if entry.ice is not None:
                frame = entry.ice.to_frame()
                frame.insert(0, "target", name)
                frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
