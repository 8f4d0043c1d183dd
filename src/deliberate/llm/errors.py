"""Failure kinds the batch runner acts on, the error that stops a stage, and secret redaction."""

from __future__ import annotations

import os
import re

from deliberate.errors import DeliberateError


class TransientError(Exception):
    """Worth retrying: rate limits, 5xx, time-outs, dropped connections, unparsable bodies.

    ``cause`` is set when the failure is about the endpoint rather than the request (connection
    refused, DNS, time-outs): a few requests in a row failing with one cause stop the stage.
    ``status`` is the HTTP status, where there was one.
    """

    def __init__(self, reason: str, retry_after: float | None = None, *,
                 cause: str | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.cause = cause
        self.status = status


class PermanentError(Exception):
    """Retrying will not help (bad request, auth, unknown model); recorded with its reason.

    ``cause`` as for :class:`TransientError`: set for failures every request would share
    (HTTP 401, 403, 404 model not found), unset for ones about this request (HTTP 400).
    """

    def __init__(self, reason: str, *, cause: str | None = None) -> None:
        super().__init__(reason)
        self.cause = cause


class StageAborted(DeliberateError):
    """A stage stopped early because its requests all fail for one reason (exit code 3)."""

    exit_code = 3


SECRET_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_SECRET_KEY", "_ACCESS_KEY", "_PASSWORD")
PLACEHOLDER_KEYS = frozenset({"EMPTY"})
"""Keys we fill in ourselves for local servers: not secrets, never redacted."""
LONG_SECRET = 8
"""Secrets this long are redacted wherever they occur, shorter ones only as whole tokens."""
_TOKEN_CHARS = r"A-Za-z0-9_\-"


def secret_values(extra: list[str] | None = None) -> set[str]:
    """The configured keys and the values of env vars named like ``*_API_KEY``, ``*_TOKEN``..."""
    values = set(extra or [])
    values |= {v for k, v in os.environ.items() if k.upper().endswith(SECRET_ENV_SUFFIXES)}
    return {v.strip() for v in values if v and v.strip() and v not in PLACEHOLDER_KEYS}


def redact(text: str, secrets: list[str] | None = None) -> str:
    """Replace API keys (given, or found in secret-named env vars) with ``***``, any length.

    A long key is replaced wherever it occurs; a short one (``abc``) only where it stands as a
    token of its own, so that ordinary words containing it stay readable.
    """
    for secret in sorted(secret_values(secrets), key=len, reverse=True):
        if len(secret) >= LONG_SECRET:
            text = text.replace(secret, "***")
        else:
            pattern = rf"(?<![{_TOKEN_CHARS}]){re.escape(secret)}(?![{_TOKEN_CHARS}])"
            text = re.sub(pattern, "***", text)
    return text
