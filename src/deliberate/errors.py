"""User-facing errors.

Anything a user can fix (a bad file, a missing field, an unknown category) raises
:class:`DeliberateError`. The CLI prints its message on one line and exits with code 2; library
callers get an ordinary exception carrying the same message.
"""

from __future__ import annotations

from pathlib import Path


class DeliberateError(Exception):
    """An error caused by input the user can fix; its message is shown as is."""

    exit_code = 2


class InputFileError(DeliberateError):
    """A problem in an input file, located by file and (where known) line."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class StageFailed(DeliberateError):
    """A stage ran, but too many of its items failed for its output to be trusted (exit 3)."""

    exit_code = 3


class Interrupted(DeliberateError):
    """The user stopped the run (Ctrl-C); what finished is kept, the manifest says so."""

    exit_code = 130
