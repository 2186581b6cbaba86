"""Help text as paragraphs: docstrings are wrapped for the source file, not for the terminal.

Typer (rich mode) keeps every single line break after a command's first paragraph, so a docstring
wrapped at 100 columns prints as 100-column lines however wide the terminal is, and a sentence
breaks mid-line. `reflow` joins the lines of each prose paragraph, so the terminal wraps them;
lines that are meant as lines (examples, indented blocks, a paragraph that starts with ``\\b``)
keep their breaks. `ReflowGroup` applies it to every command of the tree once, when typer builds
it, and the CLI reference of the docs site renders the same reflowed text.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer.core

# A line that starts with one of these is shown as a line of its own (a command to copy).
_LITERAL_STARTS = ("distillscope ", "$ ", "python ", "Example:", "Examples:")


def _is_literal(line: str) -> bool:
    return line.startswith((" ", "\t", *_LITERAL_STARTS))


def reflow(text: str | None) -> str | None:
    """`text` with the single line breaks inside each prose paragraph replaced by spaces.

    Paragraphs are separated by blank lines. A paragraph that starts with ``\\b`` (click's
    "do not rewrap" marker) keeps its lines, without the marker; so does every line that is
    indented or starts a command or an example."""
    if text is None:
        return None
    body, form_feed, tail = inspect.cleandoc(text).partition("\f")
    paragraphs = []
    for paragraph in body.split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph.lstrip("\b").lstrip("\n"))
            continue
        lines: list[str] = []
        for line in paragraph.splitlines():
            if lines and not _is_literal(line) and not _is_literal(lines[-1]):
                lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs) + form_feed + tail


def reflow_command(command: Any) -> None:
    """Reflow the help of `command` (a click command of typer's own vendored click, hence `Any`),
    its parameters and, for a group, every command below it."""
    command.help = reflow(command.help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = reflow(param.help)
    for sub in getattr(command, "commands", {}).values():
        reflow_command(sub)


class ReflowGroup(typer.core.TyperGroup):
    """The root group: typer builds the whole command tree before it, so it reflows all of it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reflow_command(self)
