"""How a message names a setting: as the command line's flag, or as the Python API's keyword argument.

The CLI and the Python API share one check of each setting (`IceRunSettings.validate`,
`RseCommon.validate`, `RunOptions.validate`, the judges' and the roles' checks). Their messages
named the CLI's flags, so `ds.ice.run(..., judge_max_input_tokens=0)` was told about
`--judge-max-input-tokens`, which its user never typed. A check names each setting through a
`Naming` its caller chooses: `flag` (the default: the CLI, and study files, which locate a flag's
message at the key it names) or `keyword` (the Python API, `RunOptions.naming`):

    flag("judge_max_input_tokens")       --judge-max-input-tokens
    keyword("judge_max_input_tokens")    judge_max_input_tokens=
    flag("mode", "fuzz")                 --mode fuzz
    keyword("mode", "fuzz")              mode='fuzz'
    flag("controls", "glm")              --control glm
    keyword("controls", "glm")           controls=[..., 'glm', ...]
    flag("datasets", "NAME=PATH")        --dataset NAME=PATH
    keyword("datasets", "NAME=PATH")     datasets={'NAME': 'PATH'}
"""

from __future__ import annotations

import shlex
from typing import Final, Protocol

# Settings whose flag is not the setting's name in kebab case: the CLI takes their items one a flag.
FLAGS: Final = {
    "controls": "--control",
    "datasets": "--dataset",
    "families": "--family",
    "foils": "--foil",
    "models": "--model",
    "tests": "--test",
}
# Settings the API takes as a list: a message about one item shows it as an item of the list.
LISTS: Final = frozenset(
    {"controls", "foils", "languages", "models", "mutators", "panel", "template_ids", "tests", "vendor_words"}
)
# Settings the API takes as a mapping, of one value (datasets) or of a list (families), given as KEY=VALUE.
MAPPINGS: Final = {"datasets": False, "families": True}


class Naming(Protocol):
    """A setting (the settings' field name, `judge_max_input_tokens`) as a message names it; with
    `value`, the setting given that value (`True` for a switch)."""

    def __call__(self, setting: str, value: object = None, /) -> str: ...


def flag(setting: str, value: object = None, /) -> str:
    """The command line's words: `--judge-max-input-tokens`, `--mode fuzz`, `--allow-missing`."""
    name = FLAGS.get(setting, "--" + setting.replace("_", "-"))
    if value is None or value is True:
        return name
    return f"{name} {shlex.quote(str(value))}"


def keyword(setting: str, value: object = None, /) -> str:
    """The Python API's words: `judge_max_input_tokens=`, `mode='fuzz'`, `allow_missing=True`."""
    if value is None:
        return f"{setting}="
    if setting in MAPPINGS and isinstance(value, str) and "=" in value:
        key, _, item = value.partition("=")
        shown = f"[{item!r}]" if MAPPINGS[setting] else repr(item)
        return f"{setting}={{{key!r}: {shown}}}"
    if setting in LISTS:
        return f"{setting}=[..., {value!r}, ...]"
    return f"{setting}={value!r}"
