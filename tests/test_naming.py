"""How a message names a setting: the CLI's flag, or the Python API's keyword argument."""

from __future__ import annotations

import pytest

from distillscope.naming import flag, keyword


@pytest.mark.parametrize(
    ("setting", "value", "as_flag", "as_keyword"),
    [
        ("judge_max_input_tokens", None, "--judge-max-input-tokens", "judge_max_input_tokens="),
        ("mode", "fuzz", "--mode fuzz", "mode='fuzz'"),
        ("structured", "", "--structured ''", "structured=''"),  # as it would be typed
        ("judge", "hybrid:SPEC", "--judge hybrid:SPEC", "judge='hybrid:SPEC'"),
        ("controls", "glm", "--control glm", "controls=[..., 'glm', ...]"),
        ("tests", None, "--test", "tests="),
        ("datasets", "NAME=PATH", "--dataset NAME=PATH", "datasets={'NAME': 'PATH'}"),
        ("families", "NAME=SPEC", "--family NAME=SPEC", "families={'NAME': ['SPEC']}"),
        ("allow_missing", True, "--allow-missing", "allow_missing=True"),
        ("bank", "my answers", "--bank 'my answers'", "bank='my answers'"),
    ],
)
def test_flag_and_keyword(setting: str, value: object, as_flag: str, as_keyword: str) -> None:
    assert flag(setting, value) == as_flag
    assert keyword(setting, value) == as_keyword
