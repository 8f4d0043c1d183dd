"""``--shard K/N``, several input files and ``deliberate merge`` from the command line: the
shards of a stage, merged, are the unsharded run's records, sorted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.loopback import LoopbackServer, Reply, scripted

from deliberate.cli.app import main
from deliberate.records.merge import record_key
from deliberate.records.shards import Shard

SCRIPT = Path(sys.executable).with_name("deliberate")
N, SHARDS = 30, 3


def teacher(body):
    question = body["messages"][-1]["content"]
    return Reply(content=f"Answer to {question}.", reasoning="Benign request; style.compliance.")


def judge(body):
    return json.dumps({"score": 7 + len(body["messages"][-1]["content"]) % 3, "criteria": {}})


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _sorted(path: Path) -> list[str]:
    return sorted(_lines(path), key=lambda line: record_key(json.loads(line)))


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"question {i}", "category": "none"})
                            + "\n" for i in range(N)))
    return path


def test_shards_merge_to_the_unsharded_records(tmp_path: Path, prompts: Path) -> None:
    with LoopbackServer(scripted({"t": teacher, "j": judge})) as server:
        common = ["--base-url", server.base_url, "--cache", str(tmp_path / "c.sqlite"), "--quiet",
                  "--chunk-size", "4"]
        gen = ["generate", "--prompts", str(prompts), "--teacher", "openai/t", "--samples", "2"]
        assert main([*gen, "--out", str(tmp_path / "g.jsonl"), *common]) == 0
        for k in range(1, SHARDS + 1):
            out = tmp_path / f"g.shard-{k}-of-{SHARDS}.jsonl"
            assert main([*gen, "--shard", f"{k}/{SHARDS}", "--out", str(out), *common]) == 0
            ids = [json.loads(line)["prompt_id"] for line in _lines(out)]
            assert all(Shard(k, SHARDS).contains(i) for i in ids)
            assert ids == sorted(ids, key=lambda i: int(i[1:]))  # input order within a shard
        shard_glob = str(tmp_path / f"g.shard-*-of-{SHARDS}.jsonl")
        # the next stage takes the shards as they are (a glob), and writes what it writes for one file
        judge_cmd = ["judge", "--judge", "openai/j", "--judge-k", "2", *common]
        assert main([*judge_cmd, "--generations", shard_glob, "--out", str(tmp_path / "js.jsonl")]) == 0
        assert main([*judge_cmd, "--generations", str(tmp_path / "g.jsonl"),
                     "--out", str(tmp_path / "j.jsonl")]) == 0
    assert main(["merge", str(tmp_path / "merged.jsonl"), shard_glob]) == 0
    assert main(["merge", str(tmp_path / "whole.jsonl"), str(tmp_path / "g.jsonl")]) == 0
    merged = (tmp_path / "merged.jsonl").read_bytes()
    assert merged == (tmp_path / "whole.jsonl").read_bytes()
    assert _lines(tmp_path / "merged.jsonl") == _sorted(tmp_path / "g.jsonl")
    assert len(_lines(tmp_path / "merged.jsonl")) == N * 2
    assert _sorted(tmp_path / "js.jsonl") == _sorted(tmp_path / "j.jsonl")
    usage = json.loads((tmp_path / "merged.usage.json").read_text())
    assert usage["models"]["openai/t"]["requests"] == N * 2


def test_several_prompt_files_are_read_in_order(tmp_path: Path, prompts: Path) -> None:
    rows = _lines(prompts)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(rows[:10]) + "\n")
    second.write_text("\n".join(rows[10:]) + "\n")
    with LoopbackServer(scripted({"t": teacher})) as server:
        common = ["--teacher", "openai/t", "--samples", "1", "--base-url", server.base_url,
                  "--cache", str(tmp_path / "c.sqlite"), "--quiet"]
        assert main(["generate", "--prompts", str(prompts), "--out", str(tmp_path / "one.jsonl"),
                     *common]) == 0
        assert main(["generate", "--prompts", str(first), "--prompts", str(second),
                     "--out", str(tmp_path / "two.jsonl"), *common]) == 0
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


@pytest.mark.parametrize("value", ["0/3", "4/3", "1/0", "x", "1-3", "2"])
@pytest.mark.parametrize("command", ["label", "generate", "judge"])
def test_bad_shard_values_exit_2_naming_the_flag(tmp_path: Path, prompts: Path, command: str,
                                                 value: str) -> None:
    flags = {"label": ["--prompts", str(prompts), "--labeler", "openai/l"],
             "generate": ["--prompts", str(prompts), "--teacher", "openai/t"],
             "judge": ["--generations", str(prompts), "--judge", "openai/j"]}[command]
    done = subprocess.run([str(SCRIPT), command, *flags, "--out", str(tmp_path / "o.jsonl"),
                           "--base-url", "http://127.0.0.1:9/v1", "--shard", value],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error:") and done.stderr.count("\n") == 1, done.stderr
    assert "--shard" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_merge_of_a_missing_glob_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["merge", str(tmp_path / "m.jsonl"), str(tmp_path / "nothing-*.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no file matches" in err and err.count("\n") == 1


def test_an_empty_shard_writes_an_empty_file(tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"id": "q1", "prompt": "q", "category": "none"}) + "\n")
    other = next(f"{k}/2" for k in (1, 2) if not Shard(k, 2).contains("q1"))
    assert main(["generate", "--prompts", str(one), "--teacher", "openai/t", "--shard", other,
                 "--out", str(tmp_path / "g.jsonl"), "--base-url", "http://127.0.0.1:9/v1"]) == 0
    assert (tmp_path / "g.jsonl").read_text() == ""


def test_an_id_in_two_prompt_files_is_an_input_error(tmp_path: Path, prompts: Path, capsys) -> None:
    again = tmp_path / "again.jsonl"
    again.write_text(_lines(prompts)[3] + "\n")
    assert main(["generate", "--prompts", str(prompts), "--prompts", str(again), "--teacher",
                 "openai/t", "--out", str(tmp_path / "g.jsonl"), "--base-url", "http://127.0.0.1:9/v1"]) == 2
    err = capsys.readouterr().err
    assert "duplicate id 'q3'" in err and err.count("\n") == 1
