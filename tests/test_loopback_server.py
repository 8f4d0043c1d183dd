"""The loopback OpenAI-compatible server that other tests and the benchmark rely on.

Checked through the official ``openai`` client, so a schema drift in the fake server shows up
here rather than as a confusing failure in the code under test.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from support.loopback import FaultPlan, LoopbackServer, Reply, scripted

SCRIPT = Path(__file__).parent / "support" / "loopback.py"


def _client(srv: LoopbackServer, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0, **kwargs)


def _ask(client: openai.OpenAI, text: str = "hello there", model: str = "m"):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])


def test_echo_reply_parses_with_usage():
    with LoopbackServer() as srv:
        assert srv.base_url == f"http://127.0.0.1:{srv.port}/v1"
        resp = _ask(_client(srv), "hello there", model="tiny")
        assert resp.object == "chat.completion"
        assert resp.id.startswith("chatcmpl-")
        assert resp.model == "tiny"
        assert resp.choices[0].message.content == "echo: hello there"
        assert resp.choices[0].finish_reason == "stop"
        assert resp.usage.prompt_tokens == 2
        assert resp.usage.completion_tokens == 3
        assert resp.usage.total_tokens == 5
        assert srv.received == srv.served == 1
        assert srv.requests[0]["messages"] == [{"role": "user", "content": "hello there"}]
        assert [m.id for m in _client(srv).models.list()] == ["tiny"]


def test_reasoning_content_arrives():
    with LoopbackServer(lambda body: Reply("final answer", reasoning="spec says so")) as srv:
        message = _ask(_client(srv)).choices[0].message
        assert message.content == "final answer"
        assert (message.model_extra or {}).get("reasoning_content") == "spec says so"
        assert message.reasoning_content == "spec says so"  # type: ignore[attr-defined]


def test_scripted_by_model():
    responder = scripted({"a": "from a", "b": lambda body: f"b saw {len(body['messages'])}"})
    with LoopbackServer(responder) as srv:
        client = _client(srv)
        assert _ask(client, model="a").choices[0].message.content == "from a"
        assert _ask(client, model="b").choices[0].message.content == "b saw 1"
        with pytest.raises(openai.NotFoundError):
            _ask(client, model="nope")
        assert {m.id for m in client.models.list()} >= {"a", "b"}


def test_429_fault_raises_rate_limit_with_retry_after():
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("429",), retry_after=0.05)) as srv:
        with pytest.raises(openai.RateLimitError) as info:
            _ask(_client(srv))
        assert info.value.response.headers["retry-after"] == "0.05"
        assert srv.served == 0 and srv.received == 1
        assert srv.faults_injected["429"] == 1


def test_500_fault_raises_internal_server_error():
    with (
        LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("500",))) as srv,
        pytest.raises(openai.InternalServerError),
    ):
        _ask(_client(srv))


def test_garbage_fault_fails_to_parse():
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("garbage",))) as srv:
        # The body is truncated JSON labelled application/json, so decoding it raises.
        with pytest.raises(json.JSONDecodeError):
            _ask(_client(srv))
        assert srv.served == 0


def test_timeout_fault_makes_client_time_out_and_stop_stays_fast():
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("timeout",), hang_s=30.0)) as srv:
        with pytest.raises(openai.APITimeoutError):
            _ask(_client(srv, timeout=0.3))
        started = time.monotonic()
    assert time.monotonic() - started < 3.0


def test_fault_rate_is_seeded():
    def run() -> list[str]:
        outcomes = []
        with LoopbackServer(faults=FaultPlan(rate=0.5, kinds=("429", "500"), seed=7)) as srv:
            client = _client(srv)
            for _ in range(20):
                try:
                    _ask(client)
                    outcomes.append("ok")
                except openai.APIStatusError as exc:
                    outcomes.append(str(exc.status_code))
        return outcomes

    first = run()
    assert first == run()
    assert "ok" in first and len(set(first)) > 1


def test_permanent_failure_is_400():
    with LoopbackServer(fail_permanently=lambda body: body["model"] == "bad") as srv:
        client = _client(srv)
        with pytest.raises(openai.BadRequestError) as info:
            _ask(client, model="bad")
        assert info.value.body["type"] == "invalid_request_error"
        assert _ask(client, model="good").choices[0].message.content == "echo: hello there"


def test_raw_body_is_sent_verbatim():
    with LoopbackServer(
        lambda body: Reply("", status=502, raw_body="<html>bad gateway</html>")
    ) as srv:
        with pytest.raises(openai.APIStatusError) as info:
            _ask(_client(srv))
        assert info.value.status_code == 502
        assert info.value.response.text == "<html>bad gateway</html>"


def test_concurrent_requests_overlap():
    async def go(base_url: str) -> None:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
        replies = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"q{i}"}]
                )
                for i in range(64)
            )
        )
        await client.close()
        assert sorted(r.choices[0].message.content for r in replies) == sorted(
            f"echo: q{i}" for i in range(64)
        )

    with LoopbackServer(latency=0.3) as srv:
        asyncio.run(go(srv.base_url))
        assert srv.served == 64
    # overlap counted, not timed (a wall-clock bound failed on 2 busy cores): many requests
    # were inside their 0.3 s wait at the same moment
    assert srv.peak_sleeping > 8


def test_script_mode_serves_and_logs(tmp_path):
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", "0", "--latency", "0.0", "--log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:")
        base_url = line.split(" ", 1)[1]
        client = openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)
        resp = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "ping"}]
        )
        assert resp.choices[0].message.content == "echo: ping"
        entries = [json.loads(x) for x in log.read_text().splitlines()]
        assert entries == [{"model": "m", "messages": [{"role": "user", "content": "ping"}]}]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


def test_first_limits_faults_to_the_first_requests():
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("429",), first=2)) as srv:
        client = _client(srv)
        for _ in range(2):
            with pytest.raises(openai.RateLimitError):
                _ask(client)
        assert _ask(client).choices[0].message.content == "echo: hello there"
        assert srv.received == 3 and srv.faults_injected["429"] == 2


@pytest.mark.parametrize(("kind", "error"), [
    ("401", openai.AuthenticationError), ("404", openai.NotFoundError),
    ("reset", openai.APIConnectionError), ("hang", openai.APITimeoutError),
])
def test_hostile_faults(kind, error):
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=(kind,))) as srv:
        with pytest.raises(error):
            _ask(_client(srv, timeout=0.5))
        assert srv.served == 0


def test_empty_choices_and_root_listing():
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("empty",)), models=["m"],
                        root="/w/a") as srv:
        assert _ask(_client(srv)).choices == []
        assert [m.model_extra["root"] for m in _client(srv).models.list()] == ["/w/a"]
        srv.root = "/w/b"
        assert [m.model_extra["root"] for m in _client(srv).models.list()] == ["/w/b"]
        assert srv.model_listings == 2


def test_random_plans_still_draw_only_transient_kinds_by_default():
    assert FaultPlan(rate=0.5).kinds == ("429", "500", "timeout", "garbage")
    with pytest.raises(ValueError):
        FaultPlan(rate=1.0, kinds=("nope",))
