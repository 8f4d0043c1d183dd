"""``stages.<stage>.batch: true``: deliberate run sends those stages through the Batch API and
writes the records a live run writes."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from support.loopback import LoopbackServer, Reply

from deliberate.pipeline.config import load_pipeline_config
from deliberate.pipeline.run import run_pipeline
from deliberate.prompts import sections

ASSETS = Path(__file__).parents[1] / "assets"
PROMPTS = [{"id": "a", "prompt": "How did siege warfare work?"},
           {"id": "b", "prompt": "How do I kill a Python process?"}]


def responder(body):
    messages = body["messages"]
    text, system = messages[-1]["content"], messages[0]["content"]
    if any(s.tag == "request" for s in sections(text)):
        return '{"categories": ["violence"]}'
    if "strict grader" in system:
        return json.dumps({"score": 9, "criteria": {}})
    return Reply(content="Sieges cut off supplies.", reasoning="per violence.1 history is fine")


def write_config(folder: Path, base_url: str, batch: dict) -> Path:
    folder.mkdir()
    (folder / "prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PROMPTS))
    config = {
        "run_dir": "run", "spec": str(ASSETS / "mini_spec.yaml"), "prompts": [{"path": "prompts.jsonl"}],
        "models": {"labeler": "openai/lab", "teacher": "openai/teach", "judge": "openai/judge"},
        "backend": {"base_url": base_url, "progress": False},
        "stages": {"label": {**batch}, "generate": {"samples": 2, **batch},
                   "judge": {"judge_k": 2, **batch}, "sft": {"enabled": False},
                   "eval": {"enabled": False}, "report": {"enabled": False}},
    }
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_data_stages_through_the_batch_api_match_a_live_run(tmp_path):
    with LoopbackServer(responder) as server:
        live = write_config(tmp_path / "live", server.base_url, {})
        run_pipeline(load_pipeline_config(live), log=lambda *_: None)
        sent = server.received
        batched = write_config(tmp_path / "batch", server.base_url,
                               {"batch": True, "batch_poll": 0.05})
        manifest = run_pipeline(load_pipeline_config(batched), log=lambda *_: None)
        assert server.received == sent and server.batch.created == 3
    run = tmp_path / "batch" / "run"
    for name in ("labelled.jsonl", "generations.jsonl", "judged.jsonl", "sft.jsonl"):
        assert (run / name).read_text() == (tmp_path / "live" / "run" / name).read_text()
    assert (run / "generations.jsonl.batch" / "round-001" / "batch.json").exists()
    assert manifest.stages["generate"].usage["models"]["openai/teach"]["sent"] == 4
