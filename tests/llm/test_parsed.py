"""generate_parsed: one parser for all requests or one per request; unparsable replies re-asked."""

from __future__ import annotations

import pytest
from support.loopback import LoopbackServer

from deliberate.llm import BackendOptions, ChatMessage, ModelRequest
from deliberate.llm.parsed import generate_parsed


def request(i: int, text: str) -> ModelRequest:
    return ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=text)])


def number(response) -> int:
    return int(response.content.removeprefix("echo: "))


def upper(response) -> str:
    if not response.content.isupper():
        raise ValueError("not upper case")
    return response.content


def test_one_parser_per_request_and_reasks(tmp_path):
    with LoopbackServer() as server:  # echoes "echo: <prompt>"
        options = BackendOptions(base_url=server.base_url, cache=tmp_path / "c.sqlite",
                                 progress=False)
        run = generate_parsed([request(0, "7"), request(1, "x")], "openai/m", [number, upper],
                              options, attempts=2)
        assert server.received == 3  # the unparsable one asked twice
    assert run.results[0].value == 7
    assert run.results[1].value is None and "not upper case (after 2 attempts)" in run.results[1].error


def test_parsers_must_match_the_requests():
    with pytest.raises(ValueError, match="1 parsers for 2 requests"):
        generate_parsed([request(0, "a"), request(1, "b")], "openai/m", [number])


def test_re_asks_reuse_one_backend(monkeypatch):
    """Every re-ask round used to build a new backend from the model ref (reloading a local
    model each time: +80 s, +1.3 GB measured); now the ref is resolved once."""
    from support.scripted import ScriptedBackend

    from deliberate.llm import BackendOptions, ChatMessage, ModelRequest
    from deliberate.llm import parsed as parsed_module

    built = []

    def fake_get_backend(ref, options=None, **kwargs):
        built.append(ref)
        return ScriptedBackend(lambda r: "42" if r.sample_index >= 2000 else "no")

    from deliberate.llm import refs

    monkeypatch.setattr(refs, "get_backend", fake_get_backend)

    def parse(response):
        if response.content != "42":
            raise ValueError("not 42")
        return 42

    requests = [ModelRequest(id="q", messages=[ChatMessage(role="user", content="?")])]
    run = parsed_module.generate_parsed(requests, "hf/some/local/model", parse,
                                        BackendOptions(use_cache=False, progress=False), attempts=3)
    assert run.results[0].value == 42 and built == ["hf/some/local/model"]


def test_greedy_requests_are_re_asked_with_sampling():
    """A greedy re-ask gives a local model's same unparsable reply back: re-asks of a
    temperature-0 request sample; a request that already samples keeps its temperature."""
    from support.scripted import ScriptedBackend

    from deliberate.llm import SamplingConfig
    from deliberate.llm.parsed import RETRY_TEMPERATURE

    backend = ScriptedBackend(lambda r: "42" if r.config.temperature > 0 else "none none none")

    def parse(response):
        if response.content != "42":
            raise ValueError("not 42")
        return 42

    greedy = ModelRequest(id="g", messages=[ChatMessage(role="user", content="?")],
                          config=SamplingConfig(temperature=0.0))
    warm = ModelRequest(id="w", messages=[ChatMessage(role="user", content="?")],
                        config=SamplingConfig(temperature=0.3))
    run = generate_parsed([greedy, warm], backend, parse,
                          BackendOptions(use_cache=False, progress=False), attempts=2)
    assert [r.value for r in run.results] == [42, 42]
    asked = {(r.id, r.sample_index): r.config.temperature for r in backend.requests}
    assert asked == {("g", 0): 0.0, ("g", 1000): RETRY_TEMPERATURE, ("w", 0): 0.3}
