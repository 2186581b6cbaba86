"""Bank models -> families, controls and the models left out.

A model's family is its organisation as the identity registry reads it from the start of the model's
name (`ice/identity.py`): gemma and gemini are both Google, so both go to `google`. A family named
later in the name is not enough: fine-tunes put their own name first ("h2ogpt-oasst-open-llama-13b" is
not OpenAI's, "snorkel-mistral-pairrm-dpo" not Mistral AI's), and are left out unless placed. Families are named by
the organisation (lower case, words joined by '-'): the same name whatever else the bank holds. The
manifest overrides the registry, places models it cannot, marks controls and leaves models out. A
model the registry cannot place and the manifest does not name is left out, with one warning that
lists them all; a bank model that is also a test model is left out of the bank.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from distillscope.ice.identity import IdentityRegistry
from distillscope.naming import Naming, flag
from distillscope.rse.banks.manifest import Manifest
from distillscope.rse.banks.types import Bank, BankModel, BankSummary, LeftOut, model_key

UNPLACED = (
    "the identity registry cannot tell its organisation from its name (place it in the manifest's families)"
)
IS_TEST = "it is a test model (a model is never its own reference)"
MANIFEST_LEFT_OUT = "the manifest leaves it out"


def group_name(organisation: str) -> str:
    """`Alibaba Cloud` -> `alibaba-cloud`: a family name that reads as a word on the command line."""
    return re.sub(r"[^0-9a-z]+", "-", organisation.lower()).strip("-") or organisation


@dataclass
class BankPlan:
    """What `--bank` resolved to."""

    families: dict[str, list[BankModel]] = field(default_factory=dict)
    controls: list[BankModel] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    placed_by: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self, bank: Bank, manifest: Manifest | None) -> BankSummary:
        return BankSummary(
            source=bank.source,
            layout=bank.layout,
            manifest=str(manifest.path) if manifest and manifest.path else None,
            models=len(bank.models),
            families={f: [m.name for m in group] for f, group in self.families.items()},
            placed_by=self.placed_by,
            controls=[m.name for m in self.controls],
            left_out=self.left_out,
        )


def _manifest_family(value: str, registry: IdentityRegistry) -> str:
    """A manifest's family: an organisation or family id the registry knows joins that group; any
    other name is written as the registry's groups are (`Stanford` and `stanford` are one family, not
    two that would split its models and its class weight)."""
    known = registry.find_org(value)
    return group_name(known.organisation if known is not None else value)


def plan_bank(
    bank: Bank,
    *,
    tests: Collection[str] = (),
    manifest: Manifest | None = None,
    registry: IdentityRegistry | None = None,
    naming: Naming = flag,
) -> BankPlan:
    """Place every bank model; `tests` are the test models' names (left out of the bank), matched
    without regard to case or Unicode form, as the bank itself tells its models apart (`GPT-4` is
    `gpt-4`; `model_key`). `naming`: how a warning names the manifest setting (flag or keyword)."""
    registry = registry or IdentityRegistry.builtin()
    manifest = manifest or Manifest()
    manifest.check_against([m.name for m in bank.models], bank.source)
    controls, leave_out = (
        {model_key(m) for m in manifest.controls},
        {model_key(m) for m in manifest.leave_out},
    )
    placed = {model_key(m): family for m, family in manifest.families.items()}
    test_names = {model_key(t) for t in tests}
    plan = BankPlan()
    unplaced: list[str] = []
    for model in bank.models:
        if model_key(model.name) in test_names:
            plan.left_out.append(LeftOut(model=model.name, reason=IS_TEST))
        elif model_key(model.name) in leave_out:
            plan.left_out.append(LeftOut(model=model.name, reason=MANIFEST_LEFT_OUT))
        elif model_key(model.name) in controls:
            plan.controls.append(model)
            plan.placed_by[model.name] = "manifest"
        elif model_key(model.name) in placed:
            family = _manifest_family(placed[model_key(model.name)], registry)
            plan.families.setdefault(family, []).append(model)
            plan.placed_by[model.name] = "manifest"
        else:
            identity = registry.for_model(model.name, at_start=True)
            if identity is None:
                unplaced.append(model.name)
                plan.left_out.append(LeftOut(model=model.name, reason=UNPLACED))
                continue
            plan.families.setdefault(group_name(identity.organisation), []).append(model)
            plan.placed_by[model.name] = "registry"
    if unplaced:
        plan.warnings.append(
            f"bank {bank.source}: {len(unplaced)} model(s) left out, the identity registry cannot tell who "
            f"built them: {', '.join(unplaced)} (place them in a manifest given with {naming('bank_manifest')}, as families: {{MODEL: FAMILY}})"
        )
    plan.families = dict(sorted(plan.families.items()))
    return plan
