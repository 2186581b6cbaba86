"""Bank models -> families by organisation, the manifest's overrides, and what is left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillscope.errors import UserError
from distillscope.rse.banks import load_bank, load_manifest, plan_bank
from distillscope.rse.banks.grouping import IS_TEST, UNPLACED, group_name

from .conftest import write_fastchat

WRITERS = {
    "gpt-4-x": "a",
    "gpt-3.5-x": "a",
    "gemma-7b-x": "b",
    "gemini-pro-x": "b",
    "claude-x": "b",
    "zorblax-9000": None,
    "wobble-13b": None,
}


def test_models_group_by_organisation(tmp_path: Path) -> None:
    bank = load_bank(str(write_fastchat(tmp_path / "bank", WRITERS, n_prompts=3)))
    plan = plan_bank(bank, tests={"gpt-3.5-x"})
    families = {f: [m.name for m in group] for f, group in plan.families.items()}
    # gemma and gemini are two families of one organisation: one group, named by the organisation
    assert families == {
        "anthropic": ["claude-x"],
        "google": ["gemini-pro-x", "gemma-7b-x"],
        "openai": ["gpt-4-x"],
    }
    left = {x.model: x.reason for x in plan.left_out}
    assert left == {"gpt-3.5-x": IS_TEST, "wobble-13b": UNPLACED, "zorblax-9000": UNPLACED}
    assert len(plan.warnings) == 1 and "wobble-13b, zorblax-9000" in plan.warnings[0]
    assert plan.placed_by["gemma-7b-x"] == "registry" and not plan.controls
    summary = plan.summary(bank, None)
    assert summary.families["google"] == ["gemini-pro-x", "gemma-7b-x"] and summary.models == 7


def test_manifest_places_overrides_and_marks_controls(tmp_path: Path) -> None:
    bank = load_bank(str(write_fastchat(tmp_path / "bank", WRITERS, n_prompts=3)))
    path = tmp_path / "bank.yaml"
    path.write_text(
        "families:\n  zorblax-9000: Zorb Labs\n  gemma-7b-x: Google DeepMind\n  claude-x: openai\n"
        "controls: [wobble-13b]\nleave_out: [gpt-3.5-x]\n",
        encoding="utf-8",
    )
    plan = plan_bank(bank, manifest=load_manifest(path))
    families = {f: [m.name for m in group] for f, group in plan.families.items()}
    # a known organisation (any alias) joins its group; an unknown one is a family of its own, written as
    # the registry's groups are
    assert families == {
        "zorb-labs": ["zorblax-9000"],
        "google": ["gemini-pro-x", "gemma-7b-x"],
        "openai": ["claude-x", "gpt-4-x"],  # members in the bank's (file) order
    }
    assert [m.name for m in plan.controls] == ["wobble-13b"] and not plan.warnings
    assert plan.placed_by["claude-x"] == "manifest" and plan.placed_by["gpt-4-x"] == "registry"
    assert [x.model for x in plan.left_out] == ["gpt-3.5-x"]


def test_manifest_naming_a_model_not_in_the_bank(tmp_path: Path) -> None:
    bank = load_bank(str(write_fastchat(tmp_path / "bank", {"gpt-4-x": "a", "claude-x": "b"}, n_prompts=2)))
    path = tmp_path / "bank.yaml"
    path.write_text("controls: [dolly-v9]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bank\.yaml: field 'controls': model 'dolly-v9' is not in the bank"):
        plan_bank(bank, manifest=load_manifest(path))
    path.write_text("families: {claude-x: openai}\ncontrols: [claude-x]\n", encoding="utf-8")
    with pytest.raises(UserError, match="under both 'families' and 'controls'"):
        plan_bank(bank, manifest=load_manifest(path))
    path.write_text("familes: {claude-x: openai}\n", encoding="utf-8")
    with pytest.raises(UserError, match="field 'familes': unknown key"):
        load_manifest(path)


def test_group_names_read_as_words() -> None:
    assert group_name("Alibaba Cloud") == "alibaba-cloud" and group_name("01.AI") == "01-ai"
    assert group_name("OpenAI") == "openai"


def test_a_fine_tune_that_names_a_family_later_is_not_placed_in_it(tmp_path: Path) -> None:
    """Derivatives put their own name first: a family named inside the name does not place the model."""
    writers = {"gpt-4-x": "a", "h2ogpt-oasst-x": None, "snorkel-mistral-x": None, "mistral-7b-x": "b"}
    bank = load_bank(str(write_fastchat(tmp_path / "bank", writers, n_prompts=3)))
    plan = plan_bank(bank)
    families = {f: [m.name for m in group] for f, group in plan.families.items()}
    assert families == {"mistral-ai": ["mistral-7b-x"], "openai": ["gpt-4-x"]}
    left = {x.model: x.reason for x in plan.left_out}
    assert left == {"h2ogpt-oasst-x": UNPLACED, "snorkel-mistral-x": UNPLACED}


def test_a_test_model_named_in_another_case_is_left_out_of_the_bank(tmp_path: Path) -> None:
    bank = load_bank(str(write_fastchat(tmp_path / "bank", WRITERS, n_prompts=3)))
    plan = plan_bank(bank, tests={"GPT-4-X"})  # the bank itself refuses gpt-4-x beside GPT-4-X
    assert {x.model: x.reason for x in plan.left_out}["gpt-4-x"] == IS_TEST
    assert [m.name for m in plan.families["openai"]] == ["gpt-3.5-x"]


def test_manifest_family_names_differing_in_case_are_one_family(tmp_path: Path) -> None:
    """`Stanford` and `stanford` split one family in two (its models, its class weight); they are one."""
    writers = {"alpaca-x": "a", "koala-x": "b", "gpt-4-x": "a", "claude-x": "b"}
    bank = load_bank(str(write_fastchat(tmp_path / "bank", writers, n_prompts=2)))
    path = tmp_path / "bank.yaml"
    path.write_text("families:\n  alpaca-x: Stanford\n  koala-x: stanford\n", encoding="utf-8")
    plan = plan_bank(bank, manifest=load_manifest(path))
    assert [m.name for m in plan.families["stanford"]] == [
        "alpaca-x",
        "koala-x",
    ] and "Stanford" not in plan.families
    path.write_text("families:\n  alpaca-x: '!!!'\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"field 'families.alpaca-x': a family name needs a letter or digit"):
        load_manifest(path)


NFC, NFD = "caf\u00e9-x", "cafe\u0301-x"  # one name: as typed, and as a folder made on macOS keeps it


def test_names_in_another_unicode_form_are_one_model(tmp_path: Path) -> None:
    """A bank copied from macOS names its file `café-x` in NFD; the test model typed on the command
    line (or its file) is NFC. Compared as they were, the test model stayed in the bank as its own
    reference, a manifest naming it was "not in the bank", and both forms side by side were two
    models that print alike."""
    bank = load_bank(str(write_fastchat(tmp_path / "bank", {NFD: "a", "gpt-4-x": "a", "claude-x": "b"}, 3)))
    assert [m.name for m in bank.models if m.name.startswith("caf")] == [NFD]
    plan = plan_bank(bank, tests={NFC.upper()})
    assert {x.model: x.reason for x in plan.left_out} == {NFD: IS_TEST}
    manifest = tmp_path / "bank.yaml"
    manifest.write_text(f"families:\n  {NFC}: Cafe Labs\n", encoding="utf-8")
    plan = plan_bank(bank, manifest=load_manifest(manifest))
    assert [m.name for m in plan.families["cafe-labs"]] == [NFD] and plan.placed_by[NFD] == "manifest"
    write_fastchat(tmp_path / "bank", {NFC: "b"}, 3)  # both forms in one bank
    with pytest.raises(UserError, match="duplicate model name"):
        load_bank(str(tmp_path / "bank"))


def test_a_manifest_placing_one_model_twice_in_two_spellings_is_refused(tmp_path: Path) -> None:
    """`GPT-4-x: openai` beside `gpt-4-x: meta` names one bank model (names are compared in any case
    and Unicode form) in two families: the YAML loader saw two keys and the plan took the last one,
    without a word. The same family twice is harmless and still reads."""
    bank = load_bank(str(write_fastchat(tmp_path / "bank", {"gpt-4-x": "a", "claude-x": "b"}, n_prompts=2)))
    path = tmp_path / "bank.yaml"
    path.write_text("families:\n  GPT-4-x: openai\n  gpt-4-x: meta\n", encoding="utf-8")
    with pytest.raises(
        UserError,
        match=r"bank\.yaml: field 'families\.gpt-4-x': model 'gpt-4-x' is 'GPT-4-x' .* placed in 'openai' "
        r"and here in 'meta': place it once",
    ):
        load_manifest(path)
    path.write_text(f"families:\n  {NFC}: Cafe Labs\n  {NFD}: openai\n", encoding="utf-8")
    with pytest.raises(UserError, match="place it once"):
        load_manifest(path)
    path.write_text("families:\n  GPT-4-x: openai\n  gpt-4-x: OpenAI\n", encoding="utf-8")
    plan = plan_bank(bank, manifest=load_manifest(path))
    assert [m.name for m in plan.families["openai"]] == ["gpt-4-x"]
