"""The Batch API path and batch files: submit, poll, download, cache, resume, export/import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.loopback import FaultPlan, LoopbackServer

from deliberate.llm import BackendOptions, ModelRequest, iter_results
from deliberate.llm.batchapi import BatchPending, generate_batch
from deliberate.llm.batchfile import export_batch, import_batch
from deliberate.llm.cache import ResponseCache
from deliberate.llm.types import ChatMessage

SUPPORT = Path(__file__).parents[1] / "support"


def _requests(n, start=0):
    return (ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"q{i}")])
            for i in range(start, n))


def _options(server, tmp_path, **kw):
    return BackendOptions(base_url=server.base_url, cache=tmp_path / "c.sqlite", progress=False,
                          backoff_base=0.01, **kw)


def test_submit_poll_download_and_cache(tmp_path):
    with LoopbackServer(batch_delay=0.3) as server:
        options = _options(server, tmp_path)
        run = generate_batch(_requests(120), "openai/m", tmp_path / "b", options,
                             poll_interval=0.05, max_requests=50)
        assert (run.parts, run.submitted, run.imported) == (3, 120, 120)
        assert (server.batch.uploads, server.batch.created) == (3, 3) and server.batch.polls >= 6
        assert run.usage.output_tokens == 240 and not run.failed and not run.missing
        results = list(iter_results(_requests(120), "openai/m", options, send=False))
        assert server.received == 0  # no online request: all from the batch, via the cache
    assert [r.response.content for r in results] == [f"echo: q{i}" for i in range(120)]
    state = json.loads((tmp_path / "b" / "batch.json").read_text())
    assert all(p["imported"] and p["batch_id"] for p in state["parts"])


def test_faults_are_reported_not_cached_and_sent_online_afterwards(tmp_path):
    plan = FaultPlan(rate=0.2, kinds=("500", "429"), seed=1, retry_after=0.01)
    with LoopbackServer(faults=plan, fail_permanently=lambda b: "q7" == b["messages"][-1]["content"]) as server:
        options = _options(server, tmp_path, max_attempts=10)
        run = generate_batch(_requests(200), "openai/m", tmp_path / "b", options, poll_interval=0.05)
        assert run.imported + len(run.failed) == 200 and 20 < len(run.failed) < 70
        assert any("HTTP 400: bad request" == why for _, why in run.failed)
        assert len(ResponseCache(tmp_path / "c.sqlite")) == run.imported
        online = list(iter_results(_requests(200), "openai/m", options))  # the rest, online
    assert sum(not r.cached for r in online) == len(run.failed)
    assert [r.ok for r in online] == [i != 7 for i in range(200)]


def test_requests_already_cached_are_not_submitted(tmp_path):
    with LoopbackServer(batch_delay=0.0) as server:
        options = _options(server, tmp_path)
        list(iter_results(_requests(30), "openai/m", options))
        run = generate_batch(_requests(50), "openai/m", tmp_path / "b", options, poll_interval=0.05)
        assert run.submitted == 20 and run.usage.from_cache == 30 and server.received == 30
        empty = generate_batch(_requests(50), "openai/m", tmp_path / "b2", options)
        assert empty.parts == 0 and server.batch.created == 1


def test_deadline_leaves_the_batch_running_and_a_rerun_picks_it_up(tmp_path):
    with LoopbackServer(batch_delay=1.0) as server:
        options = _options(server, tmp_path)
        with pytest.raises(BatchPending, match="run again to resume"):
            generate_batch(_requests(10), "openai/m", tmp_path / "b", options,
                           poll_interval=0.05, deadline=0.2)
        run = generate_batch(_requests(10), "openai/m", tmp_path / "b", options, poll_interval=0.05)
        assert run.imported == 10 and server.batch.created == 1 and server.batch.uploads == 1


def test_killed_client_resumes_the_same_batch(tmp_path):
    folder, cache = tmp_path / "b", tmp_path / "c.sqlite"
    with LoopbackServer(batch_delay=2.0) as server:
        command = [sys.executable, str(SUPPORT / "batch_client.py"), "--base-url", server.base_url,
                   "--folder", str(folder), "--cache", str(cache), "--requests", "80"]
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while server.batch.polls < 2 and time.time() < deadline:  # submitted, being polled
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert server.batch.created == 1
        second = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 0, second.stderr
        assert "imported 80 failed 0 missing 0" in second.stdout
        assert (server.batch.uploads, server.batch.created) == (1, 1)  # polled, not resubmitted


def _answer(line):
    body = line["body"]
    content = "echo: " + body["messages"][-1]["content"]
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2}}


def test_export_and_import_round_trip_like_vllm_run_batch(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    identity = "openai/m|offline"
    requests = list(_requests(30))
    requests.insert(10, requests[0].model_copy(update={"id": "twin"}))  # repeats: once a part
    export = export_batch(requests, tmp_path / "in.jsonl", model="m", identity=identity,
                          cache=cache, max_requests=20)
    assert export.counts == [20, 10] and export.repeats == 1
    lines = [json.loads(x) for p in export.parts for x in p.read_text().splitlines()]
    assert lines[0]["url"] == "/v1/chat/completions" and lines[0]["body"]["model"] == "m"
    output = tmp_path / "out.jsonl"  # what `vllm run-batch -i in.jsonl -o out.jsonl` writes
    with open(output, "w") as handle:
        for n, line in enumerate(lines):
            if n == 3:
                continue  # lost
            entry = {"id": f"x{n}", "custom_id": line["custom_id"], "error": None,
                     "response": {"status_code": 200, "body": _answer(line)}}
            if n == 5:
                entry["response"] = {"status_code": 400, "body": {"error": {"message": "too long"}}}
            handle.write(json.dumps(entry) + "\n")
    report = import_batch([output], cache, model_ref="openai/m", exported=export.parts)
    assert report.imported == 28 and report.usage.output_tokens == 56
    assert report.failed == [(lines[5]["custom_id"], "HTTP 400: too long")]
    assert report.missing == [lines[3]["custom_id"]]
    hits = cache.get_many([r.cache_key(identity) for r in requests])
    assert len(hits) == 28 and hits[requests[0].cache_key(identity)].content == "echo: q0"
    again = export_batch(requests, tmp_path / "again.jsonl", model="m", identity=identity, cache=cache)
    assert again.counts == [2] and again.cached == 29  # only the lost and the failed are left
