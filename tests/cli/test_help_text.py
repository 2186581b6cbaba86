"""Every command's --help reads as paragraphs: no sentence broken where the terminal had room, one example."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from distillscope.cli import _register_optional, app
from distillscope.cli.helptext import reflow

WIDTH = 200
BORDER = "│"


def commands() -> Iterator[tuple[list[str], Any]]:
    """Every command and group of the app, as the words that name it and its click object."""
    _register_optional(None)
    root = typer.main.get_command(app)

    def walk(path: list[str], command: Any) -> Iterator[tuple[list[str], Any]]:
        yield path, command
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk([*path, name], sub)

    yield from walk([], root)


COMMANDS = list(commands())
LEAVES = [path for path, command in COMMANDS if not getattr(command, "commands", None)]


def render_help(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(WIDTH), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def unforced_breaks(text: str, width: int = WIDTH) -> list[str]:
    """Lines that end mid-sentence, continued in lowercase on the next line, although the next word
    would have fitted on the line: a break from the source, not from the terminal's width."""
    lines = text.splitlines()
    found = []
    for line, following in itertools.pairwise(lines):
        body = line.rstrip().removesuffix(BORDER).rstrip()
        nxt = following.rstrip().removesuffix(BORDER).strip().lstrip(BORDER).strip()
        if not body or not nxt or body.endswith((".", ":", "!", "?", ")", "]")):
            continue
        word = nxt.split()[0]
        if not word[0].islower():
            continue
        # The text area ends two columns before the right edge (border and padding) in panels, one outside.
        limit = width - (3 if line.rstrip().endswith(BORDER) else 1)
        if len(body) + 1 + len(word) <= limit:
            found.append(f"{body.strip()!r} / {nxt!r}")
    return found


def test_reflow_joins_prose_and_keeps_examples() -> None:
    doc = """First line of the summary
    that goes on.

    A second paragraph, wrapped
    in the source file.

    Example: distillscope ice run --target local:smollm2
    """
    assert reflow(doc) == (
        "First line of the summary that goes on.\n\n"
        "A second paragraph, wrapped in the source file.\n\n"
        "Example: distillscope ice run --target local:smollm2"
    )
    assert reflow("\bone\ntwo") == "one\ntwo"  # click's no-rewrap marker keeps lines


def test_the_detector_finds_a_source_break() -> None:
    assert unforced_breaks("a sentence that breaks\nin the middle.")
    assert not unforced_breaks("x" * 190 + " sentence\ncontinued.")  # the terminal forced this one
    assert not unforced_breaks("A sentence.\nanother starts lowercase")


def test_the_command_tree_is_complete() -> None:
    names = {" ".join(path) for path in LEAVES}
    expected = {"ice run", "ice rescore", "ice audit sample", "ice audit score", "rse run"}
    expected |= {"rse attribute", "rse matrix", "study", "report", "compare", "demo", "models check"}
    assert expected <= names


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_help_breaks_no_sentence(path: list[str]) -> None:
    text = render_help(path)
    assert "Usage:" in text
    assert unforced_breaks(text) == []


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_every_command_has_an_example(path: list[str]) -> None:
    text = render_help(path)
    examples = re.findall(r"Example: (distillscope [^\n]*)", text)
    assert examples, f"{' '.join(path)} --help has no example"
    assert examples[0].startswith("distillscope " + " ".join(path)), examples[0]


def test_no_help_text_is_taken_for_rich_markup() -> None:
    """Typer renders help as rich markup: '[default ...]' or '[note]' would be read as a style tag and vanish."""
    tag = re.compile(r"(?<!\\)\[[a-z#/@][^\[\]]*\]")
    for path, command in COMMANDS:
        for text in [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]:
            assert not tag.search(text), f"{' '.join(path)}: {tag.search(text)} would be hidden as markup"
