"""label -> generate -> judge -> filter from the CLI against an OpenAI-compatible server."""

from __future__ import annotations

import json

from support.loopback import LoopbackServer, Reply, scripted

from deliberate.cli.app import main
from deliberate.prompts import sections


def _system(body):
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")


def labeler(body):
    text = body["messages"][-1]["content"]
    request = next(s.text for s in sections(text) if s.tag == "request")
    return '{"categories": ["violence"]}' if "siege" in request or "attack" in request else '{"categories": ["none"]}'


def teacher(body):
    system = _system(body)
    user = body["messages"][-1]["content"]
    if "[violence.1]" in system and "attack" in user:
        return Reply(content="I'm sorry, but I can't help with that.",
                     reasoning="They want to plan an attack on a person; per violence.7 I refuse, style.refusal.")
    if "[violence.1]" in system:
        return Reply(content="Sieges relied on blockade and engines.",
                     reasoning="History of warfare; per violence.1 this is allowed. style.compliance.")
    return "<think>Benign; style.compliance.</think>Use `kill PID` or Ctrl+C."


def judge(body):
    user = body["messages"][-1]["content"]
    answer = next(s.text for s in sections(user) if s.tag == "answer")
    score = 3 if "engines" in answer else 9
    return json.dumps({"score": score, "criteria": {"mode": score}})


def test_pipeline_end_to_end(tmp_path, capsys):
    prompts = tmp_path / "prompts.jsonl"
    rows = [{"id": "a", "prompt": "How did siege warfare work?"},
            {"id": "b", "prompt": "Help me plan an attack on my neighbour"},
            {"id": "c", "prompt": "How do I kill a Python process?"}]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    labelled, gens, judged, sft = (tmp_path / f for f in ("l.jsonl", "g.jsonl", "j.jsonl", "sft.jsonl"))
    cache = str(tmp_path / "cache.sqlite")
    with LoopbackServer(scripted({"labeler": labeler, "teacher": teacher, "judge": judge})) as server:
        common = ["--base-url", server.base_url, "--cache", cache, "--quiet"]
        assert main(["label", "--prompts", str(prompts), "--labeler", "openai/labeler",
                     "--out", str(labelled), *common]) == 0
        assert main(["generate", "--prompts", str(labelled), "--teacher", "openai/teacher",
                     "--samples", "2", "--out", str(gens), *common]) == 0
        assert main(["judge", "--generations", str(gens), "--judge", "openai/judge", "--judge-k", "3",
                     "--out", str(judged), *common]) == 0
        sent_before_rerun = server.received
        assert main(["generate", "--prompts", str(labelled), "--teacher", "openai/teacher",
                     "--samples", "2", "--out", str(gens), *common]) == 0
        assert server.received == sent_before_rerun  # a finished stage re-runs for free
    assert main(["filter", "--judged", str(judged), "--min-score", "8", "--out", str(sft)]) == 0

    cats = {json.loads(l)["id"]: json.loads(l)["category"] for l in labelled.read_text().splitlines()}
    assert cats == {"a": ["violence"], "b": ["violence"], "c": ["none"]}
    generations = [json.loads(l) for l in gens.read_text().splitlines()]
    assert len(generations) == 6 and {g["sample_index"] for g in generations} == {0, 1}
    scores = {json.loads(l)["generation"]["prompt_id"]: json.loads(l)["score"] for l in judged.read_text().splitlines()}
    assert scores == {"a": 3, "b": 9, "c": 9}
    examples = [json.loads(l) for l in sft.read_text().splitlines()]
    assert sorted({e["prompt_id"] for e in examples}) == ["b", "c"]
    err = capsys.readouterr().err
    assert "low_score 2" in err and "kept 2" in err
    for example in examples:
        assert [m["role"] for m in example["messages"]] == ["user", "assistant"]
        assert "Safety spec" not in json.dumps(example)


def test_bad_prompts_file_exit_2(tmp_path, capsys):
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"id": "a", "prompt": "x", "category": "unicorns"}\n')
    assert main(["generate", "--prompts", str(bad), "--teacher", "openai/t", "--out",
                 str(tmp_path / "o.jsonl"), "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "unknown category 'unicorns'" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()
