"""What went wrong talking to an OpenAI-compatible server, said in one line.

The client reports every connection failure as a time-out (its aiohttp transport maps them all
to ``ConnectTimeout``), so the cause is read from the exception chain instead: connection
refused, DNS failure, reset and real time-outs each get their own words. Messages name the
endpoint and model, and pass through :func:`~deliberate.llm.errors.redact`. ``cause`` marks the
failures every request of a stage would share (see :mod:`deliberate.llm.failfast`).
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from deliberate.llm.deadline import seconds
from deliberate.llm.errors import PermanentError, TransientError, redact

TRANSIENT_STATUS = {408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529}
DEFAULT_ENDPOINT = "https://api.openai.com/v1"
MESSAGE_CHARS = 300


class Where(NamedTuple):
    """Who a request went to, for messages: endpoint, model ref, the env var with the key."""

    endpoint: str
    ref: str
    key_env: str
    secrets: list[str]


def normalise_endpoint(url: str | None) -> str:
    """``HTTP://Host:80/v1/`` -> ``http://host/v1``; user and password are dropped."""
    if not url:
        return DEFAULT_ENDPOINT
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    default_port = {"http": 80, "https": 443}.get(scheme)
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def status_error(exc: Any, where: Where) -> Exception:
    """An HTTP error status as a transient or permanent error with a one-line reason."""
    status = exc.status_code
    hints = {401: f" (check {where.key_env})", 403: f" (check {where.key_env} and its access)",
             404: " (check the model name and --base-url)"}
    text = (f"HTTP {status} from {where.endpoint} for {where.ref}: {server_message(exc)}"
            f"{hints.get(status, '')}")
    message = redact(text, where.secrets)
    if status in TRANSIENT_STATUS:
        return TransientError(message, retry_after=retry_after(exc.response.headers),
                              status=status)
    return PermanentError(message, cause=f"HTTP {status}" if status in hints else None)


def retry_after(headers: Any) -> float | None:
    """Seconds a server asks us to wait (``retry-after-ms`` or ``retry-after``), if it says."""
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            return None  # an HTTP date; fall back to our own backoff
        return seconds / 1000 if name.endswith("-ms") else seconds
    return None


def server_message(exc: Any) -> str:
    """The error message the server sent, on one line and not too long."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    text = body.get("message") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text:
        text = str(getattr(exc, "message", "") or exc)
    return one_line(text)


def one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "..."


def connection_error(exc: BaseException, where: Where, timeout: float) -> TransientError:
    """A failed connection, named by what really happened (the client calls all time-outs)."""
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    to = f"{where.endpoint} for {where.ref}"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        text, cause = f"connection refused by {to} (is the server running?)", "connection refused"
    elif any(isinstance(e, socket.gaierror) for e in chain) or "ClientConnectorDNSError" in names:
        host = urlsplit(where.endpoint).hostname
        text, cause = f"DNS lookup failed for '{host}' ({to})", "DNS lookup failed"
    elif any(isinstance(e, ssl.SSLError) for e in chain):
        text, cause = f"TLS error talking to {to}: {_innermost(chain)}", "TLS error"
    elif any(isinstance(e, ConnectionResetError) for e in chain):
        text, cause = f"connection reset by {to}", "connection reset"
    elif "ServerDisconnectedError" in names:
        text, cause = f"{to} closed the connection without a reply", "connection closed"
    elif "SocketTimeoutError" in names or "ReadTimeout" in names or any(
            isinstance(e, (TimeoutError, asyncio.TimeoutError)) for e in chain):  # 3.10: distinct
        text, cause = f"timed out after {seconds(timeout)} s waiting for {to}", "timed out"
    else:
        text, cause = f"cannot reach {to}: {_innermost(chain)}", None
    return TransientError(redact(one_line(text), where.secrets), cause=cause)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _innermost(chain: list[BaseException]) -> str:
    last = chain[-1]
    return f"{type(last).__name__}: {last}" if str(last) else type(last).__name__
