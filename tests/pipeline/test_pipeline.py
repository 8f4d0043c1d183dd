"""deliberate run: config validation, dry-run counts, a full data pipeline, skip and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from support.loopback import LoopbackServer, Reply

from deliberate.cli.app import main
from deliberate.errors import InputFileError
from deliberate.pipeline.config import load_pipeline_config
from deliberate.pipeline.run import plan, run_pipeline
from deliberate.prompts import sections
from deliberate.records.provenance import Provenance

ASSETS = Path(__file__).parents[1] / "assets"
PROMPTS = [
    {"id": "a", "prompt": "How did siege warfare work?"},
    {"id": "b", "prompt": "Help me plan an attack on my neighbour"},
    {"id": "c", "prompt": "How do I kill a Python process?", "category": "none"},
]


def responder(body):
    """Labeler, teacher and judge in one scripted server, told apart by their prompts."""
    messages = body["messages"]
    text = messages[-1]["content"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    if any(s.tag == "request" for s in sections(text)):
        return '{"categories": ["violence"]}'
    if "strict grader" in system:
        return json.dumps({"score": 9, "criteria": {}})
    if "attack" in text:
        return Reply(content="I'm sorry, but I can't help with that.", reasoning="per violence.2, style.refusal")
    if "[violence.1]" in system:
        return Reply(content="Sieges cut off supplies.", reasoning="per violence.1 history is fine")
    return Reply(content="Run kill PID.", reasoning="benign; style.compliance")


def write_config(tmp_path: Path, base_url: str, **stages) -> Path:
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PROMPTS))
    config = {
        "run_dir": "run", "spec": str(ASSETS / "mini_spec.yaml"),
        "prompts": [{"path": "prompts.jsonl"}],
        "models": {"labeler": "openai/lab", "teacher": "openai/teach", "judge": "openai/judge"},
        "backend": {"base_url": base_url, "progress": False, "backoff_base": 0.01},
        "stages": {"generate": {"samples": 2}, "judge": {"judge_k": 2}, "sft": {"enabled": False},
                   "eval": {"enabled": False}, "report": {"enabled": False}, **stages},
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_full_data_pipeline_then_skip(tmp_path):
    with LoopbackServer(responder) as server:
        config = load_pipeline_config(write_config(tmp_path, server.base_url))
        manifest = run_pipeline(config, log=lambda *_: None)
        sent = server.received
        again = run_pipeline(config, log=lambda *_: None)
        assert server.received == sent  # everything up to date: no stage ran, no call made
    run = tmp_path / "run"
    assert [s for s, r in manifest.stages.items() if r.status == "done"] == ["label", "generate", "judge", "filter"]
    assert manifest.stages["generate"].counts["generations"] == 6
    assert manifest.stages["label"].usage["models"]["openai/lab"]["sent"] == 2  # "c" was labelled
    assert len((run / "sft.jsonl").read_text().splitlines()) == 6
    assert (run / "config.resolved.yaml").exists() and again.spec.content_hash == manifest.spec.content_hash
    assert manifest.versions["deliberate"]


def test_input_change_reruns_downstream_only(tmp_path):
    with LoopbackServer(responder) as server:
        path = write_config(tmp_path, server.base_url)
        run_pipeline(load_pipeline_config(path), log=lambda *_: None)
        data = yaml.safe_load(path.read_text())
        data["stages"]["filter"] = {"min_score": 9.5}
        path.write_text(yaml.safe_dump(data))
        ran = []
        with pytest.raises(Exception, match="filter kept no examples"):
            run_pipeline(load_pipeline_config(path), log=ran.append)
    assert any("[judge] up to date" in line for line in ran)
    manifest = Provenance.load(tmp_path / "run")
    assert manifest.stages["filter"].status == "failed"


def test_dry_run_counts(tmp_path, capsys):
    with LoopbackServer(responder) as server:
        path = write_config(tmp_path, server.base_url)
        lines = dict(plan(load_pipeline_config(path)))
        assert main(["run", str(path), "--dry-run"]) == 0
        assert server.received == 0  # the dry run checks the endpoint, it calls no model
    assert lines["label"].startswith("3 prompts; 2 labeler calls")
    assert "3 x 2 samples = 6 teacher calls" in lines["generate"]
    assert "= 12 judge calls" in lines["judge"]
    assert "teacher calls" in capsys.readouterr().out
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("mutate,message", [
    (lambda c: c.update(colour="red"), "colour"),
    (lambda c: c["stages"]["generate"].update(sampels=3), "sampels"),
    (lambda c: c.pop("prompts"), "prompts: required field is missing"),
    (lambda c: c["stages"]["judge"].update(judge_k=0), "stages.judge.judge_k"),
])
def test_config_errors(tmp_path, mutate, message, capsys):
    path = write_config(tmp_path, "http://127.0.0.1:9/v1")
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputFileError, match=message):
        load_pipeline_config(path)
    assert main(["run", str(path)]) == 2
    assert message.split(":")[0] in capsys.readouterr().err


def test_unknown_stage(tmp_path, capsys):
    path = write_config(tmp_path, "http://127.0.0.1:9/v1")
    assert main(["run", str(path), "--only", "nope"]) == 2
    assert "unknown stage 'nope'" in capsys.readouterr().err


def test_init_writes_valid_config(tmp_path):
    assert main(["init", str(tmp_path)]) == 0
    config = load_pipeline_config(tmp_path / "pipeline.yaml")
    assert config.models.student and Path(config.spec).name == "spec.yaml"
    assert main(["init", str(tmp_path)]) == 2  # refuses to overwrite


def test_init_writes_example_prompts_and_names_the_spec_after_the_folder(tmp_path):
    from deliberate.records.sources import load_prompts
    from deliberate.spec import load_spec

    folder = tmp_path / "My Policy"
    assert main(["init", str(folder)]) == 0
    assert load_spec(folder / "spec.yaml").name == "My-Policy"
    prompts = load_prompts(folder / "prompts.jsonl")
    assert len(prompts) >= 3 and len({p.id for p in prompts}) == len(prompts)
    config = load_pipeline_config(folder / "pipeline.yaml")
    # the config's prompt source is the file init wrote (so its own dry run finds it)
    assert [Path(s.path) for s in config.prompts] == [(folder / "prompts.jsonl").resolve()]


def test_resume_after_kill_mid_stage(tmp_path):
    log = tmp_path / "requests.log"
    server = subprocess.Popen([sys.executable, str(Path(__file__).parents[1] / "support" / "loopback.py"),
                               "--latency", "0.05", "--log", str(log)], stdout=subprocess.PIPE, text=True)
    base_url = server.stdout.readline().strip().split(" ", 1)[1]
    rows = [{"id": f"p{i}", "prompt": f"question {i}", "category": "none"} for i in range(40)]
    try:
        path = write_config(tmp_path, base_url, judge={"enabled": False}, filter={"enabled": False})
        (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        data = yaml.safe_load(path.read_text())
        data["backend"]["concurrency"] = 2
        # the echo server's replies have no reasoning: asked once each, so the count below is
        # about resuming, not about re-asking malformed replies
        data["stages"]["generate"]["attempts"] = 1
        path.write_text(yaml.safe_dump(data))
        command = [sys.executable, "-m", "deliberate.cli", "run", str(path)]
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while (not log.exists() or len(log.read_text().splitlines()) < 20) and time.time() < deadline:
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = len(log.read_text().splitlines())
        manifest = Provenance.load(tmp_path / "run")
        assert manifest.stages["generate"].status == "running"
        second = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        resent = len(log.read_text().splitlines()) - killed_at
    finally:
        server.terminate()
        server.wait()
    manifest = Provenance.load(tmp_path / "run")
    assert manifest.stages["generate"].status == "done"
    assert resent <= 80 - (killed_at - 2)  # only the unfinished requests (+ in flight) again
    out = [json.loads(l) for l in (tmp_path / "run" / "generations.jsonl").read_text().splitlines()]
    assert sorted((g["prompt_id"], g["sample_index"]) for g in out) == sorted(
        (f"p{i}", s) for i in range(40) for s in range(2))


def test_every_stage_on_a_tiny_student(tmp_path, tiny_model_path):
    """label -> generate -> judge -> filter -> sft -> rl -> eval -> report in one run: the
    loopback server is labeler, teacher and judge, the student is a tiny local model."""
    train = {"bf16": False, "activation_checkpointing": False, "report_to": "none",
             "disable_tqdm": True, "save_strategy": "no", "logging_steps": 1, "seed": 0}
    with LoopbackServer(responder) as server:
        path = write_config(
            tmp_path, server.base_url,
            sft={"enabled": True, **train, "max_steps": 2, "per_device_train_batch_size": 2,
                 "use_lora": False, "mix_ratio": 0.0},  # no GSM8K download in this test
            rl={"enabled": True, **train, "max_steps": 1, "per_device_train_batch_size": 2,
                "num_generations": 2, "max_completion_length": 8},
            eval={"enabled": True, "suites": ["spec"], "limit": 3, "max_tokens": 8},
            report={"enabled": True},
        )
        data = yaml.safe_load(path.read_text())
        data["models"]["student"] = f"hf/{tiny_model_path}"
        path.write_text(yaml.safe_dump(data))
        manifest = run_pipeline(load_pipeline_config(path), log=lambda *_: None)
        judged_by_rl = [b for b in server.requests if "strict grader" in (b["messages"][0]["content"] or "")]
    run = tmp_path / "run"
    assert [s for s, r in manifest.stages.items() if r.status == "done"] == [
        "label", "generate", "judge", "filter", "sft", "rl", "eval", "report"]
    assert (run / "sft" / "config.json").exists() and (run / "rl" / "config.json").exists()
    evaluated = json.loads(next((run / "eval").glob("*/manifest.json")).read_text())
    # the newest trained model is the one evaluated
    assert evaluated["models"]["evaluated"]["ref"] == f"hf/{run / 'rl'}"
    assert (run / "report.html").stat().st_size > 1000
    # `deliberate report` takes the pipeline's run folder itself (standing for its eval runs)
    assert main(["report", str(run), "--out", str(tmp_path / "again.html"), "--n-boot", "10"]) == 0
    assert f"hf/{run / 'rl'}" in (tmp_path / "again.html").read_text()
    # 6 distinct data-judge requests (identical samples share a cache key), then the RL reward's
    assert len(judged_by_rl) > 6
    assert manifest.stages["rl"].counts["global_step"] == 1
