"""Cache keys of served models: endpoint, served weights and revision, not the name alone."""

from __future__ import annotations

import socket

from support.loopback import LoopbackServer
from support.scripted import identity_of

from deliberate.llm import BackendOptions, ModelRequest, generate, get_backend
from deliberate.llm.backends.openai_errors import normalise_endpoint
from deliberate.llm.types import ChatMessage


def _requests(n):
    return [ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"q{i}")])
            for i in range(n)]


def _run(server, cache, **kw):
    options = BackendOptions(base_url=server.base_url, cache=cache, progress=False, **kw)
    return generate(_requests(3), "openai/m", options)


def _identity(backend):
    return identity_of(backend)


def test_two_servers_with_one_model_name_do_not_share_answers(tmp_path):
    cache = tmp_path / "c.sqlite"
    with LoopbackServer(lambda b: "from A") as a, LoopbackServer(lambda b: "from B") as b:
        first, second = _run(a, cache), _run(b, cache)
        assert (a.received, b.received) == (3, 3)
        assert {r.response.content for r in second.results} == {"from B"}
        _run(a, cache)
        _run(b, cache)
        assert (a.received, b.received) == (3, 3)  # each server's answers are cached, apart
    assert {r.response.content for r in first.results} == {"from A"}


def test_a_checkpoint_swap_behind_the_same_name_is_a_new_model(tmp_path):
    cache = tmp_path / "c.sqlite"
    with LoopbackServer(models=["m"], root="/ckpt/step-100") as server:
        _run(server, cache)
        assert server.received == 3 and server.model_listings == 1
        _run(server, cache)
        assert server.received == 3  # identical setup twice: the second run sends nothing
        server.root = "/ckpt/step-200"
        _run(server, cache)
        assert server.received == 6
        server.root = "/ckpt/step-100"
        _run(server, cache)
        assert server.received == 6


def test_a_revision_tag_separates_what_the_server_cannot_tell_apart(tmp_path):
    cache = tmp_path / "c.sqlite"
    with LoopbackServer() as server:
        _run(server, cache, revision="v1")
        _run(server, cache, revision="v1")
        _run(server, cache, revision="v2")
        assert server.received == 6


def test_identity_names_model_endpoint_and_root():
    with LoopbackServer(models=["m"], root="/weights/a") as server:
        backend = get_backend("openai/m", BackendOptions(base_url=server.base_url + "/"))
        identity = _identity(backend)
    assert identity == f"openai/m|endpoint=http://127.0.0.1:{server.port}/v1|root=/weights/a"


def test_identity_without_a_listing_is_model_and_endpoint():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there: no /models to ask
    backend = get_backend("openai/m", BackendOptions(base_url=f"http://127.0.0.1:{port}/v1"))
    assert _identity(backend) == f"openai/m|endpoint=http://127.0.0.1:{port}/v1"


def test_endpoints_are_normalised():
    assert normalise_endpoint("HTTP://user:pw@LocalHost:80/v1/") == "http://localhost/v1"
    assert normalise_endpoint("https://api.example.com:8443/v1") == "https://api.example.com:8443/v1"
    assert normalise_endpoint(None) == "https://api.openai.com/v1"
