"""Options shared by every command that calls models, and the error boundary around commands."""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from distillscope.engine.interrupts import Terminated, run_interruptibly
from distillscope.errors import UserError, clip
from distillscope.jsonsafe import INT_MAX, INT_MIN
from distillscope.textsafe import has_visible

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


class BadNumber(UserError):
    """A float option's value that is not a finite number. Raised while the command line is parsed
    (outside `run_command`), so `cli.run` prints it as the usual one line, naming the option from the
    command line (`with_flag`), instead of click's usage box."""

    def __init__(self, value: str, problem: str) -> None:
        self.value = value
        super().__init__(f"{clip(value)!r} {problem}")

    def with_flag(self, argv: list[str] | tuple[str, ...]) -> str:
        """The message led by the option that was given the value (`--alpha nan` or `--alpha=nan`)."""
        for i, arg in enumerate(argv):
            name, eq, given = arg.partition("=")
            if eq and name.startswith("-") and given == self.value:
                return f"{name}: {self}"
            if arg == self.value and i > 0 and argv[i - 1].startswith("-"):
                return f"{argv[i - 1]}: {self}"
        return str(self)


def finite_float(value: str | float) -> float:
    """The parser of every float option (`parser=finite_float`): click's FLOAT accepts `nan` and
    `inf`, which would be written as bare NaN into results.json."""
    if isinstance(value, float) and math.isfinite(value):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        raise BadNumber(str(value), "is not a number") from None
    if not math.isfinite(number):
        raise BadNumber(str(value), "is not a finite number")
    return number


def int64(value: str | int) -> int:
    """The parser of every integer option (`parser=int64`). click's INT takes an integer of any
    size: `--max-calls 99999999999999999999999` ran the whole command, then failed writing
    results.json (no file distillscope writes can hold it, see `jsonsafe`) and left a config.json
    no rerun could read. And a value that is not an integer was click's usage box, not one line."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        digits = text.lstrip("+-").replace("_", "").lstrip("0")
        if digits.isdigit() and len(digits) > len(str(INT_MAX)):  # int() refuses over 4,300 digits
            raise BadNumber(str(value), f"is out of range (at most {INT_MAX:,})")
        try:
            number = int(text)
        except ValueError:
            raise BadNumber(str(value), "is not an integer") from None
    if not INT_MIN <= number <= INT_MAX:
        raise BadNumber(str(value), f"is out of range (at most {INT_MAX:,})")
    return number


Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Run directory (default runs/<command>-<timestamp>). Rerun with the same DIR to resume.",
    ),
]
Cache = Annotated[
    Path | None,
    typer.Option("--cache", help="A ledger file shared across runs: identical calls are answered from it."),
]
Config = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="YAML file defining named models (docs/guides/models.md: Config file)."
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency", help="Calls in flight per model (default 16 for HTTP, 1 for local).", parser=int64
    ),
]
MaxCalls = Annotated[
    int | None,
    typer.Option("--max-calls", help="Stop cleanly after sending this many calls.", parser=int64),
]
MaxTokens = Annotated[
    int | None,
    typer.Option("--max-tokens-total", help="Stop cleanly after this many tokens.", parser=int64),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Reuse --out although it holds another command's run or other settings: start it afresh (its ledger is kept as a cache).",
    ),
]


def system_prompt_text(value: str) -> str:
    """The parser of `--system-prompt`: a text with a visible character. `--system-prompt "$SYS"` with
    SYS unset sent an empty system message, which is not "no system prompt": a chat template such as
    Qwen's then leaves out the model's own identity prompt, so the run measured another setting."""
    if not has_visible(value):
        raise BadNumber(
            value,
            "holds no visible character (an unset shell variable?): leave --system-prompt out to send no "
            'system prompt, or set system_prompt: "" for the model in --config to send an empty one',
        )
    return value


SystemPrompt = Annotated[
    str | None,
    typer.Option(
        "--system-prompt",
        help="System prompt for the tested models (default: none, so vendor identity prompts are not masked).",
        parser=system_prompt_text,
    ),
]
Seed = Annotated[
    int, typer.Option("--seed", help="Random seed: the same seed gives the same run.", parser=int64)
]
SharegptTurnsOpt = Annotated[
    str,
    typer.Option(
        "--sharegpt-turns",
        help="ShareGPT: 'first' human turn only, or 'all' human turns with the recorded history.",
    ),
]


def fail(message: str) -> NoReturn:
    """Print one error line and exit 2 (the message redacted, its control characters and markup
    escaped: it may quote a file, a spec or a server's reply)."""
    from distillscope.cli.terminal import printable
    from distillscope.redact import redact_text

    err_console.print(
        f"[bold red]error:[/] {printable(redact_text(message))}", highlight=False, soft_wrap=True
    )
    raise typer.Exit(2)


def run_command(fn: Callable[[], Coroutine[Any, Any, T]], *, resume_hint: str | None = None) -> T:
    """Run an async command: user errors -> one line and exit 2; Ctrl-C -> how to resume (within
    `engine.interrupts.INTERRUPT_GRACE_S`)."""
    try:
        return run_interruptibly(fn)
    except UserError as exc:
        fail(str(exc))
    except ValidationError as exc:  # a flag value the settings model refused (e.g. --max-tokens -3)
        fail(_validation_line(exc))
    except KeyboardInterrupt as exc:
        hint = f" Rerun the same command to resume{f' ({resume_hint})' if resume_hint else ''}: finished calls are kept in the ledger."
        terminated = isinstance(exc, Terminated)
        stopped = "terminated (SIGTERM)." if terminated else "interrupted."
        err_console.print(f"[yellow]{stopped}[/]{hint}", highlight=False, soft_wrap=True)
        raise typer.Exit(143 if terminated else 130) from None
    raise AssertionError("unreachable")


def _validation_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or exc.title
    return f"invalid value for '{field}': {err['msg']} (got {err.get('input')!r})"


def parse_pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """`NAME=VALUE` options (e.g. --dataset arena=questions.jsonl)."""
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise UserError(f"{flag} '{clip(value)}': expected NAME=PATH")
        if name in pairs:
            raise UserError(f"{flag}: name '{clip(name)}' given twice")
        twin = next((n for n in pairs if n.strip() == name.strip()), None)
        if twin is not None:  # 'a ' and 'a': two datasets, one name in every table of the report
            raise UserError(
                f"{flag}: the name {clip(name)!r} differs from {clip(twin)!r} only by spaces around it: the report "
                "would show two of one name; give each its own name"
            )
        pairs[name] = rest
    return pairs


def is_tty() -> bool:
    return sys.stdout.isatty()


def write_run_report(run_dir: Path) -> None:
    """report.html and report.md beside a run's results. Imported when needed: the report stack
    (matplotlib, jinja2) would cost every command start-up time."""
    from distillscope.report import write_run_report as write

    write(run_dir)


REPORT_MODULES = ("distillscope.report", "distillscope.report.html", "distillscope.report.markdown")


def report_warm_jobs() -> list[Callable[[], object]]:
    """The report's imports and template (~30 ms), for a run to do in the lulls of its traffic
    (`RunContext.warm_up`) instead of after its last answer."""

    def template() -> None:
        from distillscope.report.html import warm

        warm()

    return [*(partial(importlib.import_module, name) for name in REPORT_MODULES), template]
