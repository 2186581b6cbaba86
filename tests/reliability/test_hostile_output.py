"""What untrusted text does once it is inside the tool: model names, answers, run paths and file
names reach the terminal (progress, result lines, notes), report.md and the report's figures.
Each stays inert text there (docs/reliability.md §7a, "control characters ... shown").

The CLI runs as a real process against the local test server (`distillscope.testing.server`)."""

from __future__ import annotations

import shutil
import unicodedata
import warnings
from pathlib import Path
from typing import Any

from distillscope.report import plots
from distillscope.report.load import RseRun, load_run

from ..report.conftest import make_rse_run

HOSTILE_ANSWER = (
    "I am ChatGPT, made by OpenAI. \x1b]0;PWNED\x07\x1b[2J\x1b[31mred\x1b[0m "
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \u202eevil\u202c nul\x00 [bold]b[/] | pipe |"
)
# rich markup that does not parse (`[/]` closes nothing) and escape sequences: an OSC that sets
# the terminal's title, a CSI that clears the screen
HOSTILE_NAME = "ev[/]il\x1b]0;T\x07\x1b[2J"


def _controls(text: str) -> set[str]:
    """The control and format characters in `text`, but line breaks (a report's lines)."""
    return {ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf") and ch != "\n"}


def _assert_inert(result: Any) -> None:
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    assert "Traceback" not in printed and "MarkupError" not in printed, printed
    assert not _controls(printed.replace("\t", "")), printed


def test_markup_and_escapes_in_names_and_paths_are_inert_on_the_terminal(
    openai_server: Any, run_cli: Any, tmp_path: Path
) -> None:
    """A model named `ev[/]il\\x1b]0;T...`: the progress line made rich raise (a traceback after
    the calls were paid for) and the escape sequence reached the terminal raw; an `--out` with `[/]`
    in it failed the same way on the last line (`results: DIR/results.json`), and `report` failed on
    its note about a skipped run."""
    server = openai_server(reply=lambda body: HOSTILE_ANSWER)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        '{"id": "a", "prompt": "who are you?"}\n{"id": "b", "prompt": "hi"}\n', encoding="utf-8"
    )
    spec = f"openai-compatible:{HOSTILE_NAME}@{server.url}"
    answers = tmp_path / "answers[/]\x1b]0;T\x07"
    wide = {"COLUMNS": "400"}  # a long path on one line
    result = run_cli("models", "answer", spec, "-p", str(prompts), "--out", str(answers), env=wide)
    _assert_inert(result)
    assert "ev[/]il\\x1b]0;T\\x07\\x1b[2J: 2/2 done" in result.stderr  # the progress line, escaped
    assert "answers[/]\\x1b]0;T\\x07/responses.jsonl" in result.stdout

    ice = tmp_path / "ice[/]x"
    result = run_cli(
        "ice", "run", "--target", spec, "--target-org", "Zhipu AI", "--mode", "plain", "--budget", "3",
        "--out", str(ice), env=wide,
    )  # fmt: skip
    _assert_inert(result)
    assert "ice[/]x/results.json" in result.stdout

    report = tmp_path / "r[x]" / "report[/]"
    report.mkdir(parents=True)
    result = run_cli("report", str(answers), str(ice), "--out", str(report / "r.md"), env=wide)
    _assert_inert(result)
    assert "answers[/]\\x1b]0;T\\x07: skipped" in result.stderr  # the note on the answers run
    assert "report[/]/r.md" in result.stdout


def test_report_md_holds_no_control_characters_and_paths_cannot_forge_markdown(
    openai_server: Any, run_cli: Any, tmp_path: Path
) -> None:
    """An answer's escape sequences, NUL and bidi overrides were written raw into report.md (`cat
    report.md` ran them); a run folder whose name holds a backtick and a line break ended its code
    span and forged a heading."""
    server = openai_server(reply=lambda body: HOSTILE_ANSWER)
    run = tmp_path / "ice"
    result = run_cli(
        "ice", "run", "--target", f"openai-compatible:m\u202e1@{server.url}", "--target-org", "Zhipu AI",
        "--mode", "plain", "--budget", "3", "--out", str(run), "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    text = (run / "report.md").read_text(encoding="utf-8")
    assert not _controls(text)
    assert "\\x1b\\]0;PWNED\\x07" in text and "\\u202eevil\\u202c" in text and "nul\\x00" in text
    assert "m\\u202e1" in text  # the target's name

    odd = tmp_path / "x`\n# forged ``"
    shutil.copytree(run, odd)
    result = run_cli("report", str(odd), "--out", str(tmp_path / "r.md"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (tmp_path / "r.md").read_text(encoding="utf-8").splitlines()
    assert not [line for line in lines if line.startswith("# forged")]
    assert f"### ``` {tmp_path}/x` # forged `` ``` (ice)" in lines  # one code span, fenced by 3


def test_figures_draw_control_characters_as_visible_escapes(tmp_path: Path) -> None:
    """A model or dataset name with an escape character: matplotlib warned on stderr for each
    glyph it lacked, quoting the raw character ("Glyph 27 (\\x1b) missing from font")."""
    run = load_run(make_rse_run(tmp_path / "rse", models=("m\x1b[31m", "n\x07")))
    assert isinstance(run, RseRun)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot = plots.rse_aspect_bars(run)
    assert plot is not None
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]
    assert not _controls(plot.svg)
    assert "m\\x1b[31m" in plot.svg and "n\\x07" in plot.svg
