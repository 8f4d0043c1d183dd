"""Several endpoints for one model: least-in-flight choice, cool-downs, failover, cache identity."""

from __future__ import annotations

import threading

import pytest
from support.loopback import LoopbackServer
from support.scripted import identity_of

from deliberate.errors import DeliberateError
from deliberate.llm import BackendOptions, ModelRequest, StageAborted, get_backend, iter_results
from deliberate.llm.backends.endpoints import EndpointPool, endpoint_fault
from deliberate.llm.errors import PermanentError, TransientError
from deliberate.llm.types import ChatMessage


def _requests(n):
    return (ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"q{i}")])
            for i in range(n))


def _options(urls, tmp_path, **kw):
    base = {"base_url": urls, "cache": tmp_path / "c.sqlite", "progress": False,
            "backoff_base": 0.01, "max_attempts": 4}
    return BackendOptions(**{**base, **kw})


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


REFUSED = TransientError("connection refused", cause="connection refused")


def test_pool_prefers_the_least_busy_and_cools_down_a_failing_endpoint():
    clock = Clock()
    pool = EndpointPool(["a", "b", "c"], threshold=3, cool_down=5, clock=clock)
    a, b, c = pool.endpoints
    a.in_flight, b.in_flight, c.in_flight = 3, 1, 2
    assert pool.pick() is b
    for _ in range(3):
        pool.record(b, REFUSED)
    assert b.cooling_until == 105 and pool.pick() is c
    assert REFUSED.retry_after == 0.0  # another endpoint is free: retry there at once
    pool.record(b, TransientError("HTTP 429", status=429))  # rate limits are not the endpoint's
    pool.record(b, PermanentError("HTTP 400"))
    assert b.streak == 3
    clock.now = 106  # back, one request at a time, until it succeeds
    b.in_flight = 0
    assert b in pool.available()
    b.in_flight = 1
    assert b not in pool.available()
    pool.record(b, REFUSED)
    assert b.cooling_until == 116  # failed again: a longer cool-down
    clock.now = 117
    pool.record(b, None)
    assert b.streak == 0 and b.cool_downs == 0


def test_all_cooling_down_goes_to_the_first_to_recover():
    clock = Clock()
    pool = EndpointPool(["a", "b"], threshold=1, cool_down=5, clock=clock)
    pool.record(pool.endpoints[1], REFUSED)
    clock.now = 101
    pool.record(pool.endpoints[0], REFUSED)
    assert pool.available() == [] and pool.pick() is pool.endpoints[1]


def test_endpoint_faults():
    assert endpoint_fault(TransientError("x", status=503))
    assert endpoint_fault(TransientError("x", cause="timed out"))
    assert not endpoint_fault(TransientError("x", status=429))
    assert not endpoint_fault(PermanentError("x", cause="HTTP 401"))


def test_base_url_takes_a_list_comma_separated_or_yaml():
    assert BackendOptions(base_url="http://a/v1, http://b/v1").base_url == ["http://a/v1", "http://b/v1"]
    assert BackendOptions.model_validate({"base_url": ["http://a/v1"]}).base_url == "http://a/v1"
    assert BackendOptions(base_url="http://a/v1").base_url == "http://a/v1"


def test_requests_are_spread_over_the_endpoints(tmp_path):
    with LoopbackServer(latency=0.02) as a, LoopbackServer(latency=0.02) as b:
        options = _options([a.base_url, b.base_url], tmp_path, concurrency=8)
        with iter_results(_requests(200), "openai/m", options) as results:
            got = list(results)
        assert all(r.ok for r in got) and a.received + b.received == 200
        assert 60 <= a.received <= 140  # each had its share


def test_one_endpoint_killed_mid_run_the_others_carry_on(tmp_path):
    servers = [LoopbackServer(latency=0.01).start() for _ in range(3)]
    victim = servers[1]
    try:
        options = _options([s.base_url for s in servers], tmp_path, concurrency=12)
        killed = threading.Event()

        def kill_at_100(result):
            if not killed.is_set() and sum(s.received for s in servers) >= 100:
                killed.set()
                threading.Thread(target=victim.stop).start()

        with iter_results(_requests(600), "openai/m", options, on_result=kill_at_100) as results:
            got = list(results)
            usage = results.usage.models["openai/m"]
    finally:
        for server in servers:
            server.stop()
    assert killed.is_set()
    assert [r.id for r in got] == [f"r{i}" for i in range(600)] and all(r.ok for r in got)
    assert usage.failed == 0 and sum(s.received for s in servers) >= 600
    print(f"received {[s.received for s in servers]}, attempts {usage.attempts}")
    assert victim.received < 200  # the dead one got (almost) nothing after it died


def test_the_stage_stops_only_when_every_endpoint_is_down(tmp_path):
    with LoopbackServer() as a, LoopbackServer() as b:
        urls = [a.base_url, b.base_url]
    options = _options(urls, tmp_path, max_attempts=2)
    with pytest.raises(StageAborted, match="connection refused"):
        list(iter_results(_requests(200), "openai/m", options))


def _identity(urls):
    return identity_of(get_backend("openai/m", BackendOptions(base_url=urls)))


def test_identity_is_the_common_root_or_the_set_of_endpoints():
    with LoopbackServer(models=["m"], root="/w/a") as a, LoopbackServer(models=["m"], root="/w/a") as b, \
            LoopbackServer() as c, LoopbackServer() as d:
        assert _identity([a.base_url, b.base_url]) == "openai/m|root=/w/a"
        assert _identity([b.base_url, a.base_url, c.base_url]) == "openai/m|root=/w/a"
        assert _identity([c.base_url, d.base_url]) == _identity([d.base_url, c.base_url + "/"])
        assert _identity([c.base_url, d.base_url]).startswith("openai/m|endpoints=http://127.0.0.1:")
        b.root = "/w/b"
        with pytest.raises(DeliberateError, match="serve different weights"):
            _identity([a.base_url, b.base_url])


def test_replicas_share_cached_answers_whichever_served_them(tmp_path):
    with LoopbackServer(models=["m"], root="/w") as a, LoopbackServer(models=["m"], root="/w") as b:
        list(iter_results(_requests(20), "openai/m", _options([a.base_url, b.base_url], tmp_path)))
        sent = a.received + b.received
        again = list(iter_results(_requests(20), "openai/m", _options([b.base_url, a.base_url], tmp_path)))
        assert a.received + b.received == sent == 20 and all(r.cached for r in again)
