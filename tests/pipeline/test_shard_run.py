"""``deliberate run CONFIG --shard K/N``: each shard runs the data stages on its prompts and
stops before the filter; the shards, merged, are the unsharded run's records; then
``--from filter`` goes on from the merged files."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from support.loopback import LoopbackServer, Reply

from deliberate.cli.app import main
from deliberate.prompts import sections

ASSETS = Path(__file__).parents[1] / "assets"
N, SHARDS = 24, 3


def responder(body):
    messages = body["messages"]
    text = messages[-1]["content"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    if any(s.tag == "request" for s in sections(text)):
        return '{"categories": ["none"]}'
    if "strict grader" in system:
        return json.dumps({"score": 9, "criteria": {}})
    return Reply(content=f"Answer: {text[-12:]}", reasoning="benign; style.compliance")


def _config(tmp_path: Path, base_url: str) -> Path:
    (tmp_path / "prompts.jsonl").write_text("".join(
        json.dumps({"id": f"q{i}", "prompt": f"How do I do task number {i}?"}) + "\n"
        for i in range(N)))
    config = {
        "run_dir": "run", "spec": str(ASSETS / "mini_spec.yaml"), "prompts": [{"path": "prompts.jsonl"}],
        "models": {"labeler": "openai/lab", "teacher": "openai/teach", "judge": "openai/judge"},
        "backend": {"base_url": base_url, "progress": False, "backoff_base": 0.01},
        "stages": {"generate": {"samples": 2}, "judge": {"judge_k": 2}, "sft": {"enabled": False},
                   "eval": {"enabled": False}, "report": {"enabled": False},
                   "filter": {"min_score": 5, "dedup_threshold": None}},
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_shards_then_merge_then_the_rest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    with LoopbackServer(responder) as server:
        config = _config(tmp_path, server.base_url)
        for k in range(1, SHARDS + 1):
            assert main(["run", str(config), "--shard", f"{k}/{SHARDS}"]) == 0
        err = capsys.readouterr().err
        assert "deliberate merge" in err and "--from filter" in err
        assert not (run / "sft.jsonl").exists()  # stopped before the filter
        sent = server.received
        assert main(["run", str(config), "--shard", f"1/{SHARDS}"]) == 0
        assert server.received == sent and "up to date" in capsys.readouterr().err
        for name in ("labelled", "generations", "judged"):
            assert main(["merge", str(run / f"{name}.jsonl"),
                         str(run / f"{name}.shard-*-of-{SHARDS}.jsonl")]) == 0
        assert main(["run", str(config), "--from", "filter"]) == 0
        sharded = {n: (run / f"{n}.jsonl").read_bytes() for n in ("labelled", "generations", "judged")}
        # the same run unsharded, in another folder, merged (sorted) gives the same files
        text = config.read_text().replace("run_dir: run", "run_dir: whole")
        (tmp_path / "whole.yaml").write_text(text)
        assert main(["run", str(tmp_path / "whole.yaml")]) == 0
    for name, data in sharded.items():
        assert main(["merge", str(tmp_path / f"{name}.sorted.jsonl"),
                     str(tmp_path / "whole" / f"{name}.jsonl")]) == 0
        assert (tmp_path / f"{name}.sorted.jsonl").read_bytes() == data
    assert len((run / "generations.jsonl").read_text().splitlines()) == N * 2
    kept = [json.loads(line)["prompt_id"] for line in (run / "sft.jsonl").read_text().splitlines()]
    assert sorted(set(kept)) == sorted(f"q{i}" for i in range(N))


def test_a_shard_of_a_selection_without_data_stages_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, "http://127.0.0.1:9/v1")
    assert main(["run", str(config), "--shard", "1/2", "--from", "filter"]) == 2
    err = capsys.readouterr().err
    assert "--shard runs the data stages" in err and err.count("\n") == 1


def test_shards_read_a_whole_labelled_file_when_label_is_off(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with LoopbackServer(responder) as server:
        config = _config(tmp_path, server.base_url)
        data = yaml.safe_load(config.read_text())
        data["stages"]["label"] = {"enabled": False}
        config.write_text(yaml.safe_dump(data))
        run = tmp_path / "run"
        run.mkdir()
        (run / "labelled.jsonl").write_text("".join(
            json.dumps({"id": f"q{i}", "prompt": f"task {i}", "category": ["none"]}) + "\n"
            for i in range(N)))
        for k in (1, 2):
            assert main(["run", str(config), "--shard", f"{k}/2"]) == 0
    ids = [[json.loads(line)["prompt_id"] for line in (run / f"generations.shard-{k}-of-2.jsonl")
            .read_text().splitlines()] for k in (1, 2)]
    assert not set(ids[0]) & set(ids[1])
    assert sorted(set(ids[0]) | set(ids[1])) == sorted(f"q{i}" for i in range(N))


def test_a_shard_dry_run_shows_that_shards_plan_and_calls_nothing(tmp_path, monkeypatch, capsys):
    from deliberate.records.shards import Shard

    monkeypatch.chdir(tmp_path)
    with LoopbackServer(responder) as server:
        config = _config(tmp_path, server.base_url)
        assert main(["run", str(config), "--shard", f"2/{SHARDS}", "--dry-run"]) == 0
        assert server.received == 0
    out = capsys.readouterr().out
    mine = sum(Shard(2, SHARDS).contains(f"q{i}") for i in range(N))
    stages = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert stages[:3] == ["label", "generate", "judge"] and "sft" not in stages
    assert f"{mine} prompts of {N} (shard 2/{SHARDS})" in out
    assert f"{mine} x 2 samples = {mine * 2} teacher calls" in out
    assert f"generations.shard-2-of-{SHARDS}.jsonl" in out
    assert "stops here" in out and "deliberate merge" in out and "--from filter" in out
    assert not (tmp_path / "run" / "shards").exists()  # a dry run writes nothing
