"""A streamed ``judge``: every generation gets a record, in input order, whatever failed; the
judge's failures are listed beside them and count against ``--max-failure-rate``."""

from __future__ import annotations

import json
from pathlib import Path

from support.loopback import FaultPlan, LoopbackServer, Reply, scripted

from deliberate.cli.app import main

N = 40


def teacher(body):
    return Reply(content=f"Answer to {body['messages'][-1]['content']}", reasoning="style.compliance")


def judge(body):
    return json.dumps({"score": 8, "criteria": {}})


def _common(base_url: str, cache: Path) -> list[str]:
    return ["--base-url", base_url, "--cache", str(cache), "--quiet", "--chunk-size", "6",
            "--backoff-base", "0.01", "--backoff-max", "0.02"]


def test_judge_streams_every_generation_through(tmp_path):
    prompts, gens = tmp_path / "p.jsonl", tmp_path / "g.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"q{i}", "category": "none"})
                               + "\n" for i in range(N)))
    with LoopbackServer(scripted({"t": teacher, "j": judge})) as server:
        assert main(["generate", "--prompts", str(prompts), "--teacher", "openai/t", "--samples", "1",
                     "--out", str(gens), *_common(server.base_url, tmp_path / "c")]) == 0
        assert main(["judge", "--generations", str(gens), "--judge", "openai/j", "--judge-k", "2",
                     "--out", str(tmp_path / "clean.jsonl"), *_common(server.base_url, tmp_path / "c")]) == 0
    faults = FaultPlan(rate=0.2, kinds=("500",), seed=2)
    with LoopbackServer(scripted({"j": judge}), faults=faults) as server:
        out = tmp_path / "j.jsonl"
        code = main(["judge", "--generations", str(gens), "--judge", "openai/j", "--judge-k", "2",
                     "--out", str(out), "--max-attempts", "1", *_common(server.base_url, tmp_path / "c2")])
        judged = [json.loads(line) for line in out.read_text().splitlines()]
        assert [j["generation"]["prompt_id"] for j in judged] == [f"p{i}" for i in range(N)]
        unscored = [j["generation"]["prompt_id"] for j in judged if j["score"] is None]
        failures = [json.loads(line)["id"].split("#")[0]
                    for line in (tmp_path / "j.failures.jsonl").read_text().splitlines()]
        assert unscored and failures == unscored
        assert code == (3 if len(unscored) / N > 0.1 else 0)
        assert main(["judge", "--generations", str(gens), "--judge", "openai/j", "--judge-k", "2",
                     "--out", str(out), "--max-attempts", "20", *_common(server.base_url, tmp_path / "c2")]) == 0
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()
