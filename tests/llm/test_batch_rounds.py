"""A stage run in batch rounds: deferred requests answered by the Batch API or by imported
files, re-asks in further rounds, a ledger of lines the batches failed, never a live call."""

from __future__ import annotations

import asyncio

import pytest
from support.loopback import LoopbackServer

from deliberate.errors import DeliberateError
from deliberate.llm import BackendOptions, ModelRequest, get_backend
from deliberate.llm.batchoptions import BatchOptions
from deliberate.llm.batchrounds import run_in_batches
from deliberate.llm.deferred import DEFERRED, DeferringBackend, Ledger
from deliberate.llm.errors import PermanentError
from deliberate.llm.parsed import generate_parsed
from deliberate.llm.types import ChatMessage


def _requests(n):
    return [ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"q{i}")])
            for i in range(n)]


def _options(server, tmp_path, **kw):
    return BackendOptions(base_url=server.base_url, cache=tmp_path / "c.sqlite", progress=False,
                          **kw)


def _even_only(response):
    """Parses replies to even questions; odd ones are re-asked (and fail again)."""
    if int(response.content.removeprefix("echo: q")) % 2:
        raise ValueError("odd")
    return response.content


def test_rounds_until_nothing_is_deferred(tmp_path):
    lines = []
    with LoopbackServer() as server:
        options = _options(server, tmp_path)

        def stage(backend):
            return generate_parsed(_requests(6), backend, _even_only, options, attempts=2)

        outcome = run_in_batches(stage, "openai/m", options, BatchOptions(batch=True, batch_poll=0.05),
                                 folder=tmp_path / "b", notify=lines.append)
        # round 1: all six; round 2: the three odd ones' re-asks; round 3 defers nothing
        assert (outcome.rounds, outcome.imported, server.batch.created, server.received) == (2, 9, 2, 0)
        assert outcome.usage.sent == 9 and outcome.unanswered == 0
    values = [p.value for p in outcome.result.results]
    assert values == ["echo: q0", None, "echo: q2", None, "echo: q4", None]
    assert all("after 2 attempts" in p.error for p in outcome.result.results if p.value is None)
    assert len(lines) == 2 and "6 requests" in lines[0] and "round-001" in lines[0]


def test_a_stage_writing_as_it_goes_writes_only_in_its_final_run(tmp_path):
    passes = []
    with LoopbackServer() as server:
        options = _options(server, tmp_path)

        def run(final):
            def stage(backend):
                passes.append(final)
                return generate_parsed(_requests(4), backend, lambda r: r.content, options)
            return stage

        outcome = run_in_batches(run(False), "openai/m", options,
                                 BatchOptions(batch=True, batch_poll=0.05), folder=tmp_path / "b",
                                 final_stage=run(True))
        assert server.batch.created == 1 and server.received == 0
    assert passes == [False, False, True]  # defers 4, defers none, then the real run
    assert [p.value for p in outcome.result.results] == [f"echo: q{i}" for i in range(4)]


def test_throwaway_rounds_write_to_scratch_and_only_the_last_run_writes_out(tmp_path):
    """A streaming stage writes (and checkpoints) its output as it goes: a round that defers
    requests must never write ``out``, or a resume would take its deferred-failed records as
    done. Each throwaway round starts from an empty scratch folder, removed at the end."""
    from deliberate.llm.batchrounds import run_writing_in_batches

    out, targets, leftovers = tmp_path / "gen.jsonl", [], []
    with LoopbackServer() as server:
        options = _options(server, tmp_path)

        def stage(backend, target):
            leftovers.append(sorted(p.name for p in target.parent.iterdir()))
            targets.append(target)
            run = generate_parsed(_requests(3), backend, lambda r: r.content, options)
            target.write_text("".join(f"{p.value or p.error}\n" for p in run.results))
            return run

        run_writing_in_batches(stage, out, "openai/m", options,
                               BatchOptions(batch=True, batch_poll=0.05), folder=tmp_path / "b")
    scratch = targets[0].parent
    assert targets[:-1] == [scratch / "gen.jsonl"] * 2 and targets[-1] == out
    assert leftovers[:2] == [[], []]  # the second round did not see the first one's file
    assert out.read_text() == "echo: q0\necho: q1\necho: q2\n" and not scratch.exists()


def test_import_alone_never_sends_what_it_lacks(tmp_path):
    with LoopbackServer() as server:
        options = _options(server, tmp_path)
        empty = tmp_path / "out.jsonl"
        empty.write_text("")

        def stage(backend):
            return generate_parsed(_requests(3), backend, str, options)

        outcome = run_in_batches(stage, "openai/m", options, BatchOptions(batch_import=[empty]))
        assert server.received == 0 and server.batch.created == 0
    assert outcome.unanswered == 3 and outcome.rounds == 0
    assert all(p.error == "not answered by the batch" for p in outcome.result.results)


def test_a_request_the_batches_failed_is_refused_after_its_tries(tmp_path):
    backend = get_backend("openai/m", BackendOptions(base_url="http://127.0.0.1:9/v1"))
    request = _requests(1)[0]
    key = request.cache_key("id")
    ledger = Ledger()
    deferring = DeferringBackend(backend, "id", "id", spool=tmp_path / "s.jsonl", ledger=ledger,
                                 tries=2)
    ledger.add([(key, "HTTP 500: boom")])
    with pytest.raises(PermanentError, match=DEFERRED):
        asyncio.run(deferring.generate([request]))
    ledger.add([(key, "HTTP 500: boom again")])
    with pytest.raises(PermanentError, match=r"not answered by the batch \(2 batch rounds\): "
                                             "HTTP 500: boom again"):
        asyncio.run(deferring.generate([request]))
    assert (deferring.deferred, deferring.refused) == (1, 1)
    assert list(deferring.requests()) == [request]


def test_the_batch_path_needs_the_cache(tmp_path):
    options = BackendOptions(base_url="http://127.0.0.1:9/v1", use_cache=False)
    with pytest.raises(DeliberateError, match="--batch: needs the response cache"):
        run_in_batches(lambda backend: None, "openai/m", options, BatchOptions(batch=True),
                       folder=tmp_path)
