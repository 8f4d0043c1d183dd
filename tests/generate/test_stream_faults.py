"""A streamed ``generate`` against a server failing 20% of its replies: without retries the
failures are recorded (and the stage exits 3); a rerun with retries asks only for those and
writes what a run that never saw a fault writes."""

from __future__ import annotations

import json
from pathlib import Path

from support.loopback import FaultPlan, LoopbackServer, Reply, scripted

from deliberate.cli.app import main

N = 60


def teacher(body):
    return Reply(content=f"Answer to {body['messages'][-1]['content']}", reasoning="style.compliance")


def _generate(prompts: Path, out: Path, base_url: str, cache: Path, *extra: str) -> int:
    return main(["generate", "--prompts", str(prompts), "--teacher", "openai/t", "--samples", "2",
                 "--out", str(out), "--base-url", base_url, "--cache", str(cache), "--quiet",
                 "--chunk-size", "7", "--backoff-base", "0.01", "--backoff-max", "0.02", *extra])


def test_failures_are_recorded_then_retried_into_the_clean_output(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"q{i}", "category": "none"})
                               + "\n" for i in range(N)))
    with LoopbackServer(scripted({"t": teacher})) as server:
        assert _generate(prompts, tmp_path / "clean.jsonl", server.base_url, tmp_path / "c0") == 0
    faults = FaultPlan(rate=0.2, kinds=("500", "429", "garbage"), seed=5)
    with LoopbackServer(scripted({"t": teacher}), faults=faults) as server:
        out, cache = tmp_path / "g.jsonl", tmp_path / "c1"
        assert _generate(prompts, out, server.base_url, cache, "--max-attempts", "1") == 3
        records = [json.loads(line) for line in out.read_text().splitlines()]
        failed = [json.loads(line)["id"] for line in (tmp_path / "g.failures.jsonl").read_text().splitlines()]
        assert 0 < len(failed) < N and len(records) + len(failed) == N * 2
        ordered = [f"{r['prompt_id']}#{r['sample_index']}" for r in records]
        expected = [f"p{i}#{k}" for i in range(N) for k in range(2)]
        assert ordered == [key for key in expected if key not in failed]  # input order
        usage = json.loads((tmp_path / "g.usage.json").read_text())["models"]["openai/t"]
        assert usage["failed"] == len(failed)
        before = server.received
        assert _generate(prompts, out, server.base_url, cache, "--max-attempts", "20") == 0
        assert server.received - before < len(failed) * 3  # the cached successes were not asked again
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
    assert not (tmp_path / "g.failures.jsonl").exists()
