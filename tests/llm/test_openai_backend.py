"""The OpenAI-compatible backend against the loopback server: parsing, faults, secrets."""

from __future__ import annotations

from support.loopback import FaultPlan, LoopbackServer, Reply

from deliberate.generate.sample import SampleConfig, run_sample
from deliberate.llm import BackendOptions, ModelRequest, generate
from deliberate.llm.types import ChatMessage, ReasoningFormat
from deliberate.records import PromptRecord


def _requests(n):
    return [ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"q{i}")]) for i in range(n)]


def _options(server, tmp_path, **kw):
    return BackendOptions(base_url=server.base_url, cache=tmp_path / "c.sqlite", progress=False,
                          backoff_base=0.01, **kw)


def test_reasoning_field_think_tags_and_usage(tmp_path):
    def responder(body):
        q = body["messages"][-1]["content"]
        if q == "q0":
            return Reply(content="final answer", reasoning="chain of thought")
        return "<think>tagged thought</think>tagged answer"

    with LoopbackServer(responder) as server:
        out = generate(_requests(2), "openai/teacher", _options(server, tmp_path))
        sent = server.requests
    first, second = (r.response for r in out.results)
    assert (first.reasoning, first.content, first.reasoning_format) == (
        "chain of thought", "final answer", ReasoningFormat.field)
    assert (second.reasoning, second.content, second.reasoning_format) == (
        "tagged thought", "tagged answer", ReasoningFormat.think_tags)
    assert first.usage.output_tokens > 0 and first.model == "openai/teacher"
    body = next(b for b in sent if b["messages"][-1]["content"] == "q0")  # arrival order varies
    assert body["model"] == "teacher" and body["messages"] == [{"role": "user", "content": "q0"}]
    assert "max_tokens" in body and "temperature" in body


def test_twenty_percent_faults_complete(tmp_path):
    faults = FaultPlan(rate=0.2, kinds=("429", "500", "timeout", "garbage"), seed=7, hang_s=5.0)
    with LoopbackServer(faults=faults, fail_permanently=lambda b: b["messages"][-1]["content"] == "q3") as server:
        options = _options(server, tmp_path, timeout=1.0, max_attempts=8, concurrency=16)
        out = generate(_requests(60), "openai/m", options)
        injected = sum(server.faults_injected.values())
    by_id = {r.id: r for r in out.results}
    assert len(by_id) == 60 and injected >= 8
    assert not by_id["r3"].ok and "HTTP 400" in by_id["r3"].error
    for result in out.results:
        assert result.ok or result.error, result.id  # done, or failed with its reason
    assert sum(r.ok for r in out.results) == 59
    usage = out.usage.models["openai/m"]
    assert usage.attempts > usage.sent and usage.failed == 1


def test_api_key_never_stored_and_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SECRET_KEY_API_KEY", "sk-test-do-not-leak-123")
    with LoopbackServer(fail_permanently=lambda b: True,
                        responder=lambda b: "ok") as server:
        options = _options(server, tmp_path, api_key_env="MY_SECRET_KEY_API_KEY")
        out = generate(_requests(1), "openai/m", options)
    assert "sk-test-do-not-leak-123" not in (out.results[0].error or "")
    assert b"sk-test-do-not-leak" not in (tmp_path / "c.sqlite").read_bytes()


def test_missing_key_without_base_url_is_clear(monkeypatch):
    import pytest

    from deliberate.errors import DeliberateError
    from deliberate.llm import get_backend

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(DeliberateError, match="set OPENAI_API_KEY"):
        get_backend("openai/gpt-x")


def test_same_stage_code_on_server_and_local_model(tiny_model_path, tmp_path):
    prompts = [PromptRecord(id=f"p{i}", prompt=f"hello {i}") for i in range(3)]
    config = SampleConfig(samples=2, max_tokens=5, temperature=0.0)
    with LoopbackServer() as server:
        served = run_sample(config, prompts, model="openai/m", options=_options(server, tmp_path))
    local = run_sample(config, prompts, model=f"hf/{tiny_model_path}",
                       options=BackendOptions(cache=tmp_path / "c2.sqlite", progress=False))
    for result in (served, local):
        assert [(r.prompt_id, r.sample_index) for r in result.records] == [
            (f"p{i}", s) for i in range(3) for s in range(2)]
        assert not result.failures
    assert served.records[0].answer == "echo: hello 0"
