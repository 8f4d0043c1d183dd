"""The batch runner: cache hits, retries, permanent failures, dedup, usage, secrets."""

from __future__ import annotations

import asyncio

import pytest
from support.scripted import ScriptedBackend

from deliberate.errors import DeliberateError
from deliberate.llm import BackendOptions, ModelRequest, SamplingConfig, parse_model_ref
from deliberate.llm.cache import ResponseCache
from deliberate.llm.errors import redact
from deliberate.llm.runner import _delay, run_requests
from deliberate.llm.types import ChatMessage


def _backend(**kwargs):
    return ScriptedBackend(lambda r: f"answer to {r.messages[-1].content}", **kwargs)


def _requests(n, samples=1):
    return [
        ModelRequest(id=f"p{i}#{s}", messages=[ChatMessage(role="user", content=f"q{i}")], sample_index=s)
        for i in range(n)
        for s in range(samples)
    ]


FAST = BackendOptions(backoff_base=0.0, progress=False, max_attempts=3)


def test_results_in_order_and_concurrency_bounded():
    backend = _backend()
    out = asyncio.run(run_requests(backend, _requests(20), FAST))
    assert [r.id for r in out.results] == [f"p{i}#0" for i in range(20)]
    assert all(r.ok for r in out.results)
    assert backend.peak <= 4
    assert out.usage.models["test/scripted"].sent == 20


def test_transient_retried_permanent_recorded():
    backend = _backend(transient={"p1#0": 2, "p2#0": 5}, permanent={"p3#0"})
    out = asyncio.run(run_requests(backend, _requests(5), FAST))
    by_id = {r.id: r for r in out.results}
    assert by_id["p1#0"].ok and by_id["p1#0"].attempts == 3
    assert not by_id["p2#0"].ok and "after 3 attempts" in by_id["p2#0"].error
    assert not by_id["p3#0"].ok and "400" in by_id["p3#0"].error
    assert backend.calls.count("p3#0") == 1
    usage = out.usage.models["test/scripted"]
    assert usage.failed == 2 and usage.attempts == 5 + 2 + 2


def test_cache_makes_rerun_free_and_samples_distinct(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    requests = _requests(3, samples=2)
    keys = {r.cache_key("test/scripted") for r in requests}
    assert len(keys) == 6  # the sample index is part of the key
    first = asyncio.run(run_requests(_backend(permanent={"p0#1"}), requests, FAST, cache=cache))
    assert sum(r.ok for r in first.results) == 5
    backend = _backend()
    second = asyncio.run(run_requests(backend, requests, FAST, cache=cache))
    assert backend.calls == ["p0#1"]  # only the failure is retried
    assert sum(r.cached for r in second.results) == 5 and len(cache) == 6
    third_backend = _backend()
    asyncio.run(run_requests(third_backend, requests, FAST, cache=cache))
    assert third_backend.calls == []


def test_duplicate_requests_sent_once(tmp_path):
    requests = _requests(2)
    twin = requests[0].model_copy(update={"id": "twin#0"})
    backend = _backend()
    out = asyncio.run(run_requests(backend, [*requests, twin], FAST))
    assert len(backend.calls) == 2
    assert out.results[2].id == "twin#0" and out.results[2].response == out.results[0].response


def test_key_depends_on_model_messages_and_config():
    base = _requests(1)[0]
    assert base.cache_key("a/x") != base.cache_key("a/y")
    hotter = base.model_copy(update={"config": SamplingConfig(temperature=1.0)})
    assert hotter.cache_key("a/x") != base.cache_key("a/x")
    assert base.model_copy(update={"id": "other"}).cache_key("a/x") == base.cache_key("a/x")


def test_backoff_honours_retry_after_and_grows():
    opts = BackendOptions(backoff_base=1.0, backoff_max=8.0)
    assert _delay(1, 2.5, opts) == 2.5
    assert 0.5 <= _delay(1, None, opts) <= 1.0
    assert 4.0 <= _delay(4, None, opts) <= 8.0
    assert _delay(10, None, opts) <= 8.0


def test_redact(monkeypatch):
    monkeypatch.setenv("MY_API_KEY", "sk-supersecret123")
    assert redact("auth failed for sk-supersecret123") == "auth failed for ***"
    assert redact("key abcdefgh here", ["abcdefgh"]) == "key *** here"


def test_model_refs():
    assert tuple(parse_model_ref("openai/gpt-4o")) == ("openai", "gpt-4o")
    assert parse_model_ref("hf//abs/path").name == "/abs/path"
    with pytest.raises(DeliberateError, match="provider prefix"):
        parse_model_ref("gpt-4o")
    with pytest.raises(DeliberateError, match="unknown model provider"):
        parse_model_ref("azure/gpt")
