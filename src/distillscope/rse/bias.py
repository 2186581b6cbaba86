"""LLM-judge bias controls for RSE: a judge rating its own (or its family's) answers prefers them.

The paper's judge (GPT-4o) rated similarity to outputs of its own family. `self_preference` says
so before anyone reads the scores: the judge is the reference model itself (same name once specs,
paths and case are set aside), or both come from the same maker according to the identity
registry (ice/data/identities.yaml).
"""

from __future__ import annotations

from distillscope.report.load import display_model_name, normalise_model_name


def self_preference(judge: str, reference: str) -> str | None:
    """A one-line warning when the judge is the reference model or of its family; else None."""
    if normalise_model_name(judge) == normalise_model_name(reference):
        return f"the judge {judge} is the reference model itself: it may prefer answers like its own (self-preference)"
    from distillscope.ice.identity import IdentityRegistry

    registry = IdentityRegistry.builtin()
    a, b = registry.for_model(display_model_name(judge)), registry.for_model(display_model_name(reference))
    if a is not None and b is not None and a.organisation == b.organisation:
        return (
            f"the judge {judge} and the reference {reference} are both made by {a.organisation}: "
            "it may prefer answers like its family's (self-preference); use a judge from another maker"
        )
    return None
