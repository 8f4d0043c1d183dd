"""The runner's deadlines, request budget and fail-fast, with a scripted backend (no sockets)."""

from __future__ import annotations

import asyncio
import time

import pytest
from support.scripted import ScriptedBackend

from deliberate.errors import DeliberateError
from deliberate.llm import BackendOptions, ModelRequest
from deliberate.llm.cache import ResponseCache
from deliberate.llm.errors import PermanentError, StageAborted, TransientError
from deliberate.llm.runner import run_requests
from deliberate.llm.types import ChatMessage

FAST = BackendOptions(backoff_base=0.0, progress=False, max_attempts=3)


def _requests(n):
    return [ModelRequest(id=f"p{i}#0", messages=[ChatMessage(role="user", content=f"q{i}")])
            for i in range(n)]


def _unauthorized(request):
    return PermanentError("HTTP 401 from http://x/v1 for test/scripted: bad key", cause="HTTP 401")


def test_stage_aborted_is_a_user_error_with_exit_code_3():
    assert issubclass(StageAborted, DeliberateError) and StageAborted.exit_code == 3


def test_a_permanent_stage_wide_error_stops_after_a_handful():
    backend = ScriptedBackend(_unauthorized)
    with pytest.raises(StageAborted, match=r"stopped after 3 requests: HTTP 401 from http://x/v1"):
        asyncio.run(run_requests(backend, _requests(400), FAST.model_copy(update={"concurrency": 64})))
    assert len(backend.calls) <= 5  # the probe width plus what was in flight, not 64 or 400
    assert backend.peak <= 3


def test_per_request_failures_never_stop_the_stage():
    backend = ScriptedBackend(lambda r: "ok", permanent={f"p{i}#0" for i in range(10)})
    out = asyncio.run(run_requests(backend, _requests(12), FAST))
    assert sum(not r.ok for r in out.results) == 10 and len(backend.calls) == 12


def test_transient_causes_are_retried_before_they_count():
    refused = TransientError("connection refused by http://x/v1", cause="connection refused")
    backend = ScriptedBackend(lambda r: refused)
    with pytest.raises(StageAborted, match="connection refused"):
        asyncio.run(run_requests(backend, _requests(50), FAST))
    assert backend.calls.count("p0#0") == 3  # every attempt was made first


def test_after_a_success_only_a_long_run_of_failures_stops_it(tmp_path):
    answered = set()

    def flaky(request):
        if len(answered) < 2:
            answered.add(request.id)
            return "fine"
        return _unauthorized(request)

    cache = ResponseCache(tmp_path / "c.sqlite")
    backend = ScriptedBackend(flaky)
    options = FAST.model_copy(update={"concurrency": 2})
    with pytest.raises(StageAborted):
        asyncio.run(run_requests(backend, _requests(100), options, cache=cache))
    assert 2 + 4 <= len(backend.calls) < 20  # 2 x concurrency failures in a row, not 3
    assert len(cache) == 2  # what succeeded before the stop stays cached


def test_slow_start_until_the_first_success():
    backend = ScriptedBackend(lambda r: "ok")
    out = asyncio.run(run_requests(backend, _requests(40), FAST))
    assert all(r.ok for r in out.results) and backend.peak == 4  # full concurrency after success


def test_deadline_ends_a_hung_call_and_says_so():
    backend = ScriptedBackend(lambda r: "ok", hang={"p1#0"})
    options = FAST.model_copy(update={"timeout": 0.2, "max_attempts": 2})
    started = time.monotonic()
    out = asyncio.run(run_requests(backend, _requests(4), options))
    assert time.monotonic() - started < 3
    failed = out.results[1]
    assert not failed.ok and failed.attempts == 2
    assert "timed out after 0.2 s" in failed.error and "after 2 attempts" in failed.error
    assert all(r.ok for i, r in enumerate(out.results) if i != 1)


def test_request_budget_bounds_all_attempts():
    backend = ScriptedBackend(lambda r: "ok", hang={"p0#0"})
    options = FAST.model_copy(update={"timeout": 0.3, "request_budget": 0.5, "max_attempts": 10,
                                      "backoff_base": 0.05})
    started = time.monotonic()
    out = asyncio.run(run_requests(backend, _requests(1), options))
    assert time.monotonic() - started < 2
    assert out.results[0].attempts <= 3 and "timed out" in out.results[0].error


def test_local_backends_get_no_deadline():
    class SlowLocal(ScriptedBackend):
        remote = False

        async def generate(self, batch):
            await asyncio.sleep(0.3)
            return await super().generate(batch)

    out = asyncio.run(run_requests(SlowLocal(lambda r: "ok"), _requests(2),
                                   FAST.model_copy(update={"timeout": 0.05})))
    assert all(r.ok for r in out.results)


def test_revision_is_part_of_the_key(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    for revision, expected_calls in (("step-1", 3), ("step-1", 0), ("step-2", 3), (None, 3)):
        backend = ScriptedBackend(lambda r: "ok")
        options = FAST.model_copy(update={"revision": revision})
        asyncio.run(run_requests(backend, _requests(3), options, cache=cache))
        assert len(backend.calls) == expected_calls, revision
