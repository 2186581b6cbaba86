"""Text from models and files made safe to print on a terminal.

An answer or a file name may hold escape sequences (`\\x1b[2J` clears the screen, OSC 8 forges
links), carriage returns that overwrite a line, bidi overrides that reorder it, or rich markup
(`[red]`, `[/]`) that would restyle the table or make rich raise. `printable` shows each control or
invisible format character as a visible escape and neutralises markup.
"""

from __future__ import annotations

from rich.markup import escape

from distillscope.redact import redact_text
from distillscope.textsafe import visible_controls


def printable(
    text: str, limit: int | None = None, *, keep_newlines: bool = False, markup: bool = True
) -> str:
    """`text` with control (Cc) and format (Cf: bidi overrides, zero-width) characters escaped
    (`textsafe.visible_controls`) and rich markup neutralised (`markup=False`: for a
    `rich.text.Text`, which has none); cut to `limit` characters (before escaping) when given.
    `keep_newlines` leaves line breaks as they are."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    out = visible_controls(text, keep_newlines=keep_newlines)
    return escape(out) if markup else out


def shown(value: object) -> str:
    """A setting or name for the terminal: redacted (a spec may carry a key) and printable."""
    return printable(redact_text(str(value)))
