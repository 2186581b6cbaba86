"""Errors that reach the user.

`UserError` is any problem with what the user gave us (a file, a flag, a model spec, an
unreachable server). The CLI prints its message on one line and exits with status 2, never a
traceback. Messages name the file, line and field where one is involved. Both error kinds pass
their message through `redact_text`: a URL in it loses its credentials and key parameters.
"""

from __future__ import annotations

from pathlib import Path

from distillscope.redact import redact_text

CLIP_LIMIT = 60  # characters of a value a message echoes


def clip(text: str, limit: int = CLIP_LIMIT) -> str:
    """`text` cut to `limit` characters (`...` ending a cut one): a value from a file or an
    argument, shown in a message, is never echoed whole (a 2 MB model name is one line of 60)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def failed_calls_reason(
    n_failed: int, n_calls: int, first_error: str | None, what: str = "target calls"
) -> str:
    """Why a run whose calls failed is not complete, and what to do: the ledger records a failed call
    as `error`, and a rerun of the same command asks exactly those calls again (answered ones are kept)."""
    return (
        f"{n_failed} of {n_calls} {what} failed (first error: {clip(first_error or 'no reply', 200)}); "
        "their answers are not scored: rerun the same command to retry them (answered calls are kept)"
    )


def clip_field(field: str) -> str:
    """A field's path with each part cut by `clip`: a key may be a value of the file (a dataset's
    name), and a key of 2 MB must not make the field's name 2 MB."""
    return ".".join(clip(part) for part in field.split("."))


def clip_echoes(message: str, *values: object) -> str:
    """`message` with every echo of a long value (text, or text in a list or mapping) cut by
    `clip`: for a message made elsewhere (a flag's check, a file reader) that quotes the value."""
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, str | Path) and len(str(value)) > CLIP_LIMIT:
            message = message.replace(str(value), clip(str(value)))
    return message


class UserError(Exception):
    """Bad input: printed as one line, exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(redact_text(" ".join(str(message).split())))

    @classmethod
    def at(
        cls, path: str | Path, message: str, *, line: int | None = None, field: str | None = None
    ) -> UserError:
        """An error located in a file: ``path:line: field 'x': message``."""
        where = str(path)
        if line is not None:
            where += f":{line}"
        if field is not None:
            message = f"field '{clip_field(field)}': {message}"
        return cls(f"{where}: {message}")


class BudgetExhausted(Exception):
    """The run's call or token budget is spent; the run stops cleanly and says so."""


class BackendError(Exception):
    """A model call failed. `retryable` says whether the scheduler may try again.

    `unreachable` marks a failure to connect at all (refused, unknown host, connect timeout):
    when no call of a model ever reached its server, that is a wrong URL or port, not a flaky
    provider, and the scheduler stops the run with a `UserError` instead of retrying for minutes.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(redact_text(message))
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.unreachable = unreachable
