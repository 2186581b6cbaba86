"""The optional bank manifest (YAML): what the identity registry cannot know.

    families:                 # model -> family: overrides the registry, or places a model it cannot
      koala-13b: lmsys
      my-finetune: Meta       # an organisation or family id the registry knows is grouped with it
    controls:                 # known-independent models: they never define a family
      - dolly-v2-12b
    leave_out:                # bank models not to use at all
      - alpaca-13b

Every model named must be in the bank: a name that is not is an error naming the file and the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distillscope.errors import UserError, clip
from distillscope.records import load_yaml
from distillscope.rse.banks.types import model_key

KEYS = ("families", "controls", "leave_out")


@dataclass
class Manifest:
    path: Path | None = None
    families: dict[str, str] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)
    leave_out: list[str] = field(default_factory=list)

    def names(self) -> list[tuple[str, str]]:
        """(section, model) for every model the manifest names."""
        return [
            *(("families", m) for m in self.families),
            *(("controls", m) for m in self.controls),
            *(("leave_out", m) for m in self.leave_out),
        ]

    def check_against(self, models: list[str], source: str) -> None:
        """Every named model is in the bank (in any case or Unicode form: `model_key`), and in one
        section only."""
        known = {model_key(m) for m in models}
        sections: dict[str, str] = {}
        for section, name in self.names():
            model = model_key(name)
            if model not in known:
                raise UserError.at(
                    self.path or "manifest", f"model '{name}' is not in the bank {source}", field=section
                )
            if model in sections and sections[model] != section:
                raise UserError.at(
                    self.path or "manifest",
                    f"model '{name}' is under both '{sections[model]}' and '{section}'",
                    field=section,
                )
            sections[model] = section


def _names(path: Path, raw: Any, key: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str | int) for x in raw):
        raise UserError.at(path, "expected a list of model names", field=key)
    return [str(x) for x in raw]


def load_manifest(path: Path) -> Manifest:
    data = load_yaml(path, "bank manifest")
    if data is None:
        return Manifest(path)
    if not isinstance(data, dict):
        raise UserError.at(path, f"expected a mapping with {', '.join(KEYS)}")
    unknown = sorted(set(map(str, data)) - set(KEYS))
    if unknown:
        raise UserError.at(path, f"unknown key (expected {', '.join(KEYS)})", field=unknown[0])
    families = data.get("families") or {}
    if not isinstance(families, dict):
        raise UserError.at(path, "expected a mapping of model -> family", field="families")
    placed: dict[str, str] = {}
    spelled: dict[str, str] = {}  # model_key -> the name it was first placed under
    for model, family in families.items():
        if not isinstance(family, str) or not family.strip():
            raise UserError.at(path, "expected a family name (text)", field=f"families.{model}")
        if not any(ch.isalnum() for ch in family):
            raise UserError.at(
                path, f"a family name needs a letter or digit, got {family!r}", field=f"families.{model}"
            )
        # `GPT-4: openai` and `gpt-4: meta` are one bank model (`model_key`) placed twice: the YAML
        # loader sees two keys, and the plan took whichever came last without a word
        first = spelled.setdefault(model_key(str(model)), str(model))
        if first != str(model) and model_key(placed[first]) != model_key(family.strip()):
            raise UserError.at(
                path,
                f"model '{clip(str(model))}' is '{clip(first)}' (names are compared in any case and Unicode "
                f"form), placed in '{clip(placed[first])}' and here in '{clip(family.strip())}': place it once",
                field=f"families.{model}",
            )
        placed[str(model)] = family.strip()
    return Manifest(
        path,
        placed,
        _names(path, data.get("controls"), "controls"),
        _names(path, data.get("leave_out"), "leave_out"),
    )
