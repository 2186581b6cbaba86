"""Errors that reach the user.

`UserError` is any problem with what the user gave us (a file, a flag, a model spec, an
unreachable server). The CLI prints its message on one line and exits with status 2, never a
traceback. Messages name the file, line and field where one is involved. Both error kinds pass
their message through `redact_text`: a URL in it loses its credentials and key parameters.
"""

from __future__ import annotations

from pathlib import Path

from distillscope.redact import redact_text


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
            message = f"field '{field}': {message}"
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
