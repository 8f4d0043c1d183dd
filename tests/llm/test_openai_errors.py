"""What the OpenAI-compatible backend says when a call fails, and secret redaction."""

from __future__ import annotations

import itertools
import socket
import time
from typing import ClassVar

import pytest
from support.loopback import FaultPlan, LoopbackServer

from deliberate.llm import BackendOptions, ModelRequest, generate
from deliberate.llm.backends.openai_errors import Where, connection_error
from deliberate.llm.errors import PermanentError, TransientError, redact
from deliberate.llm.types import ChatMessage

WHERE = Where("http://127.0.0.1:9/v1", "openai/m", "OPENAI_API_KEY", ["sk-configured-key"])


def _chained(*chain: BaseException) -> BaseException:
    """``chain[0]`` raised from ``chain[1]`` raised from ... (as the client wraps errors)."""
    for outer, inner in itertools.pairwise(chain):
        outer.__cause__ = inner
    return chain[0]


class SocketTimeoutError(Exception):
    """Stands in for aiohttp's exception of that name."""


@pytest.mark.parametrize(("inner", "words", "cause"), [
    (ConnectionRefusedError(111, "Connect call failed"),
     "connection refused by http://127.0.0.1:9/v1 for openai/m", "connection refused"),
    (socket.gaierror(-2, "Name or service not known"), "DNS lookup failed for '127.0.0.1'",
     "DNS lookup failed"),
    (ConnectionResetError(104, "Connection reset by peer"), "connection reset by", "connection reset"),
    (SocketTimeoutError("Timeout on reading data"), "timed out after 30 s waiting for", "timed out"),
    (OSError("weird"), "cannot reach http://127.0.0.1:9/v1 for openai/m: OSError: weird", None),
])
def test_connection_errors_are_named_by_what_happened(inner, words, cause):
    # the client reports all of these as "Request timed out." (APITimeoutError / ConnectTimeout)
    error = connection_error(_chained(RuntimeError("Request timed out."), inner), WHERE, 30.0)
    assert isinstance(error, TransientError) and words in str(error) and error.cause == cause
    assert "\n" not in str(error)
    if cause != "timed out":
        assert "timed out" not in str(error)


def _options(server, tmp_path, **kw):
    return BackendOptions(base_url=server.base_url, cache=tmp_path / "c.sqlite", progress=False,
                          backoff_base=0.01, **kw)


def _one(server, tmp_path, **kw):
    request = ModelRequest(id="r", messages=[ChatMessage(role="user", content="q")])
    return generate([request], "openai/m", _options(server, tmp_path, **kw)).results[0]


def test_trickling_server_times_out_as_a_whole(tmp_path):
    # a byte every 0.2 s never trips a per-read time-out; the whole-request deadline does
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("trickle",), trickle_s=0.2)) as server:
        started = time.monotonic()
        result = _one(server, tmp_path, timeout=1.0, max_attempts=1)
    assert time.monotonic() - started < 5
    assert "timed out after 1 s" in result.error


@pytest.mark.parametrize(("kind", "words"), [
    ("empty", "no choices in the reply"),
    ("garbage", "malformed JSON"),
    ("404", "HTTP 404 from http://127.0.0.1:"),
    ("500", "HTTP 500 from http://127.0.0.1:"),
])
def test_bad_replies_have_one_line_reasons(tmp_path, kind, words):
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=(kind,))) as server:
        result = _one(server, tmp_path, max_attempts=2)
    assert not result.ok and words in result.error and "\n" not in result.error


def test_a_short_key_echoed_by_the_server_is_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORT_KEY", "abc")
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("401",))) as server:
        result = _one(server, tmp_path, api_key_env="SHORT_KEY")
    assert result.error.endswith("Incorrect API key provided: *** (check SHORT_KEY)")
    assert "abc" not in result.error.replace("for openai/m", "")


def test_permanent_errors_carry_a_stage_wide_cause_only_when_every_request_shares_it():
    from deliberate.llm.backends.openai_errors import status_error

    class Response:
        headers: ClassVar[dict] = {}

    class StatusError(Exception):
        def __init__(self, status):
            self.status_code, self.body, self.response = status, {"message": "no"}, Response()

    assert status_error(StatusError(401), WHERE).cause == "HTTP 401"
    assert "(check OPENAI_API_KEY)" in str(status_error(StatusError(401), WHERE))
    assert status_error(StatusError(404), WHERE).cause == "HTTP 404"
    bad_request = status_error(StatusError(400), WHERE)
    assert isinstance(bad_request, PermanentError) and bad_request.cause is None
    assert isinstance(status_error(StatusError(429), WHERE), TransientError)


def test_redaction_of_keys_of_any_length(monkeypatch):
    monkeypatch.setenv("SERVICE_TOKEN", "tok")
    monkeypatch.setenv("OTHER_SECRET", "s3cr3t-value-long")
    monkeypatch.setenv("EMPTY_API_KEY", "")
    text = "key tok, token tokens, s3cr3t-value-long and xs3cr3t-value-longx, abc"
    assert redact(text, ["abc", ""]) == "key ***, token tokens, *** and x***x, ***"
    assert redact("nothing to hide") == "nothing to hide"  # empty values never match
    assert redact("EMPTY reply", ["EMPTY"]) == "EMPTY reply"  # our placeholder, not a secret
