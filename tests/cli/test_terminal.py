"""Text shown on the terminal: control and format characters escaped, markup neutralised."""

from __future__ import annotations

from rich.console import Console

from distillscope.cli.terminal import printable, shown


def test_printable_escapes_controls_and_markup() -> None:
    text = "\x1b[2J\x07ok\r\n[red]x[/]\u202e\u200b\x9b"
    out = printable(text)
    assert out == "\\x1b[2J\\x07ok\\r\\n\\[red]x\\[/]\\u202e\\u200b\\x9b"
    console = Console(record=True, width=200)
    console.print(out)
    assert console.export_text().strip() == "\\x1b[2J\\x07ok\\r\\n[red]x[/]\\u202e\\u200b\\x9b"
    assert printable("a\nb", keep_newlines=True) == "a\nb"
    assert printable("abcdef", limit=3) == "abc…"
    assert printable("[b]", markup=False) == "[b]"


def test_shown_redacts() -> None:
    assert (
        shown("openai-compatible:m@http://h/v1?api_key=zz") == "openai-compatible:m@http://h/v1?api_key=***"
    )
