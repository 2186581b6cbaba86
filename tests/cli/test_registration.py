"""Commands run one after another in one process (the Python API, a notebook, a test suite)."""

from __future__ import annotations

from collections import Counter

import pytest

from distillscope import cli


def _names() -> Counter[str]:
    groups = [group.name or "" for group in cli.app.registered_groups]
    commands = [command.name or "" for command in cli.app.registered_commands]
    return Counter(groups + commands)


def test_each_command_is_registered_once_however_many_commands_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Typer rebuilds the whole command tree at every start: a group added again by each `run` made
    every later command slower to start (six times slower after the attribution tests)."""
    for argv in (["ice", "--help"], ["rse", "--help"], ["report", "--help"], ["--help"], ["study", "--help"]):
        for _ in range(3):
            assert cli.run(argv) == 0
    capsys.readouterr()
    names = _names()
    for name in ("ice", "rse", "report", "compare", "study", "models", "demo"):
        assert names[name] == 1, names
