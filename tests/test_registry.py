"""The one registry type behind every named extension point."""

from __future__ import annotations

import pytest

from distillscope.errors import UserError
from distillscope.ice.fuzzer.mutators import MUTATORS
from distillscope.ice.judges import JUDGES
from distillscope.models.base import BACKENDS, create_backend
from distillscope.models.spec import parse_inline
from distillscope.registry import Registry
from distillscope.rse.judging import OFFLINE, SIMILARITY_JUDGES


def test_lookup_lists_the_choices_in_registration_order() -> None:
    colours: Registry[int] = Registry("colour")
    colours.add("red", 1)
    colours.register("green")(2)
    assert colours.lookup("green") == 2
    assert list(colours) == ["red", "green"] and len(colours) == 2 and "red" in colours
    with pytest.raises(UserError) as info:
        colours.lookup("blue", flag="--colour")
    assert str(info.value) == "--colour: unknown colour 'blue' (choose from: red, green)"
    assert colours.unknown_message(["a", "b"]) == "unknown colours 'a', 'b' (choose from: red, green)"
    assert colours.unknown_message([]) == "unknown colour (none given) (choose from: red, green)"


def test_a_name_registered_twice_is_an_error_unless_replaced() -> None:
    reg: Registry[str] = Registry("thing")
    reg.add("x", "first")
    reg.add("x", "first")  # the same object again (a module imported twice) is harmless
    with pytest.raises(ValueError, match="already registered"):
        reg.add("x", "second")
    reg.add("x", "second", replace=True)
    assert reg["x"] == "second"
    with pytest.raises(ValueError, match="non-empty"):
        reg.add(" padded ", "y")


def test_loader_runs_once_on_first_read() -> None:
    calls: list[int] = []
    reg: Registry[int] = Registry("plugin", load=lambda: (calls.append(1), reg.add("builtin", 7))[0])
    assert calls == []  # building the registry loads nothing
    assert reg.names() == ["builtin"] and reg.lookup("builtin") == 7
    assert list(reg) == ["builtin"]
    assert calls == [1]


def test_the_four_extension_points_are_registries() -> None:
    assert {"local", "openai-compatible", "replay"} <= set(BACKENDS)
    assert {"rules", "hybrid", "recorded"} <= set(JUDGES)
    assert OFFLINE in SIMILARITY_JUDGES
    assert list(MUTATORS) == ["CrossOver", "Expand", "GenerateSimilar", "Shorten", "Rephrase"]


def test_an_unknown_model_kind_names_the_known_ones() -> None:
    config = parse_inline("replay:answers.jsonl").model_copy(update={"kind": "telepathy"})
    with pytest.raises(UserError) as info:
        create_backend(config)
    message = str(info.value)
    assert message.startswith("unknown model kind 'telepathy' (choose from: ")
    assert "openai-compatible" in message and "replay" in message
