"""deliberate run: what was trained is what is evaluated, outputs follow their inputs, and a
run that cannot succeed stops early with one line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from support.loopback import LoopbackServer

from deliberate.cli.app import main
from deliberate.pipeline.config import load_pipeline_config
from deliberate.pipeline.run import run_pipeline
from deliberate.records.provenance import Provenance
from pipeline.test_pipeline import responder, write_config

TRAIN = {"bf16": False, "activation_checkpointing": False, "report_to": "none", "disable_tqdm": True,
         "save_strategy": "no", "logging_steps": 1, "seed": 0, "max_steps": 1,
         "per_device_train_batch_size": 2}


def _student_config(tmp_path: Path, base_url: str, student: Path, **sft) -> Path:
    path = write_config(tmp_path, base_url, sft={"enabled": True, **TRAIN, "mix_ratio": 0.0, **sft},
                        eval={"enabled": True, "suites": ["spec"], "limit": 2, "max_tokens": 4,
                              "refusal_method": "rules", "models": [f"hf/{student}"]})
    data = yaml.safe_load(path.read_text())
    data["models"]["student"] = f"hf/{student}"
    path.write_text(yaml.safe_dump(data))
    return path


def _eval_manifests(run: Path) -> dict[str, dict]:
    manifests = [json.loads(p.read_text()) for p in (run / "eval").glob("*/manifest.json")]
    return {m["models"]["evaluated"]["ref"]: m["models"]["evaluated"] for m in manifests}


def test_lora_student_after_is_the_trained_adapter(tmp_path, tiny_model_path):
    with LoopbackServer(responder) as server:
        path = _student_config(tmp_path, server.base_url, tiny_model_path, use_lora=True,
                               lora_r=4, lora_alpha=8)
        manifest = run_pipeline(load_pipeline_config(path), log=lambda *_: None)
    run = tmp_path / "run"
    assert (run / "sft" / "adapter_config.json").exists() and not (run / "sft" / "config.json").exists()
    evaluated = _eval_manifests(run)
    after, before = evaluated[f"hf/{run / 'sft'}"], evaluated[f"hf/{tiny_model_path}"]
    assert after["fingerprint"] and before["fingerprint"] and after["fingerprint"] != before["fingerprint"]
    assert manifest.stages["eval"].status == "done"


def test_a_training_setting_reruns_only_training_and_after(tmp_path, tiny_model_path):
    logs: list[str] = []
    with LoopbackServer(responder) as server:
        path = _student_config(tmp_path, server.base_url, tiny_model_path)
        run_pipeline(load_pipeline_config(path), log=lambda *_: None)
        sent = server.received
        data = yaml.safe_load(path.read_text())
        data["stages"]["sft"]["max_steps"] = 2
        path.write_text(yaml.safe_dump(data))
        manifest = run_pipeline(load_pipeline_config(path), log=logs.append)
        assert server.received == sent  # label, generate and judge were not asked again
    skipped = {line.split("]")[0][1:] for line in logs if "up to date" in line}
    assert skipped == {"label", "generate", "judge", "filter"}
    assert manifest.stages["sft"].counts["global_step"] == 2 and manifest.stages["sft"].counts["resumed_from"] is None
    assert any("earlier outputs moved to" in line for line in logs if line.startswith("[sft]"))
    moved = list((tmp_path / "run" / ".previous").glob("sft-*/sft/config.json"))
    assert len(moved) == 1  # the old model is kept aside, not loaded or resumed


def test_eval_refuses_to_call_the_base_model_trained(tmp_path, tiny_model_path, capsys):
    with LoopbackServer(responder) as server:
        path = _student_config(tmp_path, server.base_url, tiny_model_path)
        data = yaml.safe_load(path.read_text())
        data["stages"]["sft"]["enabled"] = False  # training on, yet no trained model: rl only
        data["stages"]["rl"] = {"enabled": True}
        path.write_text(yaml.safe_dump(data))
        assert main(["run", str(path), "--only", "eval"]) == 2
    err = capsys.readouterr().err
    assert "holds no trained model" in err and "refusing to evaluate the base student" in err


def test_preflight_finds_a_bad_judge_before_any_call(tmp_path, capsys):
    with LoopbackServer(responder) as server:
        path = write_config(tmp_path, server.base_url)
        data = yaml.safe_load(path.read_text())
        data["models"]["judge"] = "judge-without-provider"
        path.write_text(yaml.safe_dump(data))
        assert main(["run", str(path)]) == 2
        assert server.received == 0
    err = capsys.readouterr().err
    assert err.startswith("error: preflight: models.judge") and "provider prefix" in err
    assert err.count("\n") == 1


def test_preflight_names_a_dead_endpoint(tmp_path, capsys):
    path = write_config(tmp_path, "http://127.0.0.1:9/v1")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cannot reach http://127.0.0.1:9/v1/models" in err and "Traceback" not in err
    assert main(["run", str(path), "--dry-run"]) == 2  # the dry run checks the same things


def test_preflight_names_a_missing_local_model_before_any_call(tmp_path, capsys):
    missing = {"absolute": f"hf/{tmp_path / 'no-such-model'}",
               "relative": "hf/runs/my-policy/sft",  # two slashes: a path, not a hub id
               "gguf": "hf/student.gguf"}
    with LoopbackServer(responder) as server:
        for ref in missing.values():
            path = write_config(tmp_path, server.base_url,
                                eval={"enabled": True, "suites": ["spec"], "limit": 1})
            data = yaml.safe_load(path.read_text())
            data["models"]["student"] = ref
            path.write_text(yaml.safe_dump(data))
            assert main(["run", str(path)]) == 2, ref
            err = capsys.readouterr().err
            name = ref.removeprefix("hf/")
            assert err == f"error: preflight: models.student ({ref}): no such local model {name}\n"
        assert server.received == 0
    assert not (tmp_path / "run").exists()


def test_a_stage_where_most_items_failed_exits_3(tmp_path):
    def half_broken(body):
        text = body["messages"][-1]["content"]
        if "siege" in text.lower() and "<request id=" not in text:
            from support.loopback import Reply

            return Reply(content="bad request", status=400)
        return responder(body)

    with LoopbackServer(half_broken) as server:
        path = write_config(tmp_path, server.base_url)
        command = [sys.executable, "-m", "deliberate.cli", "run", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stderr
    assert "generate: 2 of 6 items failed" in done.stderr and "generations.failures.jsonl" in done.stderr
    assert Provenance.load(tmp_path / "run").stages["generate"].status == "failed"


def test_ctrl_c_exits_130_and_the_manifest_says_interrupted(tmp_path):
    with LoopbackServer(responder, latency=0.5) as server:
        path = write_config(tmp_path, server.base_url)
        data = yaml.safe_load(path.read_text())
        data["backend"]["concurrency"] = 1
        path.write_text(yaml.safe_dump(data))
        script = Path(sys.executable).with_name("deliberate")  # the installed console script
        process = subprocess.Popen([str(script), "run", str(path)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while server.received < 3 and time.time() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    manifest = Provenance.load(tmp_path / "run")
    assert manifest.status == "interrupted"
    assert "interrupted" in {record.status for record in manifest.stages.values()}
