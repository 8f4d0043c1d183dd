"""The streaming runner: input order, a bounded window, lazy input, dedup, durable cache, faults."""

from __future__ import annotations

import asyncio
import random

import pytest
from support.loopback import FaultPlan, LoopbackServer
from support.scripted import ScriptedBackend

from deliberate.llm import BackendOptions, ModelRequest, RequestStream, iter_results
from deliberate.llm.cache import ResponseCache
from deliberate.llm.errors import PermanentError, StageAborted
from deliberate.llm.ordered import WindowStats
from deliberate.llm.parsed import ParsedStream, iter_parsed
from deliberate.llm.types import ChatMessage

FAST = BackendOptions(backoff_base=0.0, progress=False, max_attempts=3)


def _request(i: int, text: str | None = None) -> ModelRequest:
    return ModelRequest(id=f"p{i}#0", messages=[ChatMessage(role="user", content=text or f"q{i}")])


class Lazy:
    """A generator of requests that records how far ahead of the consumer it was read."""

    def __init__(self, n: int, text=None) -> None:
        self.n, self.text, self.produced, self.consumed, self.ahead = n, text, 0, 0, 0

    def __iter__(self):
        for i in range(self.n):
            self.produced += 1
            self.ahead = max(self.ahead, self.produced - self.consumed)
            yield _request(i, self.text(i) if self.text else None)


class Jittery(ScriptedBackend):
    """Random latencies, so results finish far out of order."""

    def __init__(self, *args, seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.rng = random.Random(seed)

    async def generate(self, batch):
        await asyncio.sleep(self.rng.choice([0.0, 0.001, 0.02, 0.05]))
        return await super().generate(batch)


def _collect(stream, lazy=None):
    async def run():
        out = []
        async with stream:
            async for result in stream:
                out.append(result)
                if lazy is not None:
                    lazy.consumed += 1
        return out

    return asyncio.run(run())


def test_order_kept_and_window_bounded_under_random_latencies():
    lazy, stats = Lazy(600), WindowStats()
    backend = Jittery(lambda r: f"a {r.messages[-1].content}")
    options = FAST.model_copy(update={"concurrency": 8})
    stream = RequestStream(backend, lazy, options, window=32, stats=stats)
    results = _collect(stream, lazy)
    assert [r.id for r in results] == [f"p{i}#0" for i in range(600)]
    assert all(r.response.content == f"a q{i}" for i, r in enumerate(results))
    assert stats.max_window <= 32 and lazy.ahead <= 32 + 1  # read lazily, a window ahead
    assert 0 < stats.max_buffered <= 32  # results did wait for earlier ones, within the window
    assert backend.peak <= 8 and stream.dispatcher.peak_in_flight <= 8
    assert stream.usage.models["test/scripted"].sent == 600


def test_each_success_is_in_the_cache_before_it_is_yielded(tmp_path):
    path = tmp_path / "c.sqlite"
    cache, reader = ResponseCache(path), ResponseCache(path)  # reader: another connection
    stream = RequestStream(Jittery(lambda r: "ok"), Lazy(300), FAST, cache=cache, window=40)

    async def run():
        seen = 0
        async with stream:
            async for result in stream:
                assert result.key in reader.get_many([result.key])  # committed, visible
                seen += 1
        return seen

    assert asyncio.run(run()) == 300
    assert 0 < stream.dispatcher.writer.flushes < 300  # written in batches, not row by row


def test_identical_requests_are_sent_once_within_the_window_and_cached_beyond():
    backend = ScriptedBackend(lambda r: "same")
    twins = [_request(0), _request(1), _request(0, "q0").model_copy(update={"id": "twin"})]
    results = _collect(RequestStream(backend, twins, FAST))
    assert backend.calls == ["p0#0", "p1#0"] and results[2].id == "twin"


def test_a_repeat_beyond_the_window_comes_from_the_cache(tmp_path):
    far = [_request(0)] + [_request(i) for i in range(1, 50)] + [_request(0).model_copy(update={"id": "again"})]
    with_cache = ScriptedBackend(lambda r: "x")
    _collect(RequestStream(with_cache, far, FAST, cache=ResponseCache(tmp_path / "c.sqlite"),
                           window=4))
    assert with_cache.calls.count("p0#0") == 1 and "again" not in with_cache.calls
    without = ScriptedBackend(lambda r: "x")  # no cache: dedup reaches as far as the window
    _collect(RequestStream(without, far, FAST, window=4))
    assert without.calls.count("p0#0") == 1 and without.calls.count("again") == 1


def test_stage_wide_failure_raises_from_the_iteration_and_keeps_what_succeeded(tmp_path):
    answered = []

    def reply(request):
        if len(answered) < 5:
            answered.append(request.id)
            return "fine"
        return PermanentError("HTTP 401: bad key", cause="HTTP 401")

    cache = ResponseCache(tmp_path / "c.sqlite")
    options = FAST.model_copy(update={"concurrency": 2})
    seen = []
    with pytest.raises(StageAborted, match="HTTP 401"):
        async def run():
            stream = RequestStream(ScriptedBackend(reply), Lazy(10_000), options, cache=cache)
            async with stream:
                async for result in stream:
                    seen.append(result)

        asyncio.run(run())
    assert len(cache) == 5  # what succeeded before the stop is cached
    assert sum(r.ok for r in seen) == 5 and len(seen) < 20  # failures before it were yielded


def test_stopping_early_cancels_what_is_in_flight():
    backend = ScriptedBackend(lambda r: "ok")
    with iter_results(Lazy(100_000), backend, FAST.model_copy(update={"use_cache": False})) as it:
        first = [next(it) for _ in range(10)]
    assert [r.id for r in first] == [f"p{i}#0" for i in range(10)]
    assert len(backend.calls) < 100  # a window's worth, not the whole input


def test_sync_stream_through_a_server_with_twenty_percent_faults(tmp_path):
    plan = FaultPlan(rate=0.2, kinds=("429", "500", "garbage"), seed=3, retry_after=0.01)
    options = BackendOptions(backoff_base=0.01, progress=False, max_attempts=8, concurrency=16,
                             cache=tmp_path / "c.sqlite")
    with LoopbackServer(faults=plan) as server:
        options = options.model_copy(update={"base_url": server.base_url})
        with iter_results(Lazy(400), "openai/m", options) as results:
            got = list(results)
            usage = results.usage.models["openai/m"]
        faults, received = sum(server.faults_injected.values()), server.received
        again = list(iter_results(Lazy(400), "openai/m", options, send=False))
        assert server.received == received
    assert [r.id for r in got] == [f"p{i}#0" for i in range(400)]
    assert all(r.ok and r.response.content == f"echo: q{i}" for i, r in enumerate(got))
    assert faults > 40 and usage.attempts == 400 + faults and usage.failed == 0
    assert [r.response for r in again] == [r.response for r in got]  # every answer was cached


def test_parsed_stream_re_asks_in_place_and_keeps_order():
    def reply(request):
        # the first answer of every third prompt does not parse; its re-ask (a new sample) does
        bad = int(request.messages[-1].content[1:]) % 3 == 0 and request.sample_index == 0
        return "garbage" if bad else "42"

    def parse(response):
        return int(response.content)

    backend, stats = Jittery(reply), WindowStats()
    stream = ParsedStream(backend, Lazy(90), parse, FAST, window=12, stats=stats)
    parsed = _collect(stream)
    assert [p.value for p in parsed] == [42] * 90
    assert len(backend.calls) == 90 + 30 and stats.max_window <= 12
    assert stream.usage.models["test/scripted"].requests == 120


def test_parsed_stream_reports_what_never_parses(tmp_path):
    options = FAST.model_copy(update={"cache": tmp_path / "c.sqlite"})
    def parse(response):
        return int(response.content)

    with iter_parsed(Lazy(3), ScriptedBackend(lambda r: "nope"), parse, options, attempts=2) as it:
        parsed = list(it)
    assert all(p.value is None and "(after 2 attempts)" in p.error for p in parsed)


def test_an_exception_in_a_job_is_raised_in_its_turn_and_the_rest_collected():
    def parse(response):
        raise TypeError("a parser bug")  # not a ValueError: a bug, not a re-ask

    with pytest.raises(TypeError, match="a parser bug"):
        _collect(ParsedStream(ScriptedBackend(lambda r: "x"), Lazy(20), parse, FAST))
