"""The whole training flow from the CLI, under ``accelerate launch`` with 2 data-parallel CPU processes:
``deliberate filter`` exports the SFT set, ``deliberate sft`` trains on it, ``deliberate rl`` trains
the SFT output with GRPO against a judge on a loopback server.

Why not ``accelerate launch --cpu --num_processes 2``: accelerate (1.x) runs ``--cpu`` jobs through
its single-process launcher unless they go through ``mpirun``, so that command trains on ONE process
(deliberate warns when it sees it). ``configs/accelerate/cpu_2proc.yaml`` starts 2 processes with
torchrun; deliberate puts them on CPU (gloo) because the machine has no accelerator.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support.loopback import LoopbackServer

pytest.importorskip("trl")

ROOT = Path(__file__).resolve().parents[2]
ACCELERATE_CONFIG = ROOT / "configs" / "accelerate" / "cpu_2proc.yaml"
COT = "Per violence.1 history is allowed."
ANSWER = "Sieges used trebuchets."
TOPICS = ["medieval sieges", "roman legions", "castle walls", "viking raids", "greek phalanxes",
          "samurai armour", "trench warfare", "naval blockades"]
RL_PROMPTS = [
    {"id": "r1", "prompt": "How did castle sieges end?", "category": "violence", "expected_mode": "comply"},
    {"id": "r2", "prompt": "How were city walls defended?", "category": "violence", "expected_mode": "comply"},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_judged(path: Path, spec) -> Path:
    """Judged generations as the judge stage writes them: a teacher's CoT citing the spec + answer."""
    from deliberate.llm import SamplingConfig
    from deliberate.llm.types import ChatMessage, ReasoningFormat
    from deliberate.records import write_jsonl
    from deliberate.records.generation import GenerationRecord, JudgedRecord, Verdict
    from deliberate.spec.checks import run_checks

    records = []
    for i, topic in enumerate(TOPICS):
        generation = GenerationRecord(
            prompt_id=f"p{i}", sample_index=0, messages=[ChatMessage(role="user", content=f"How did {topic} work?")],
            category=["violence"], spec_name="mini", spec_version="0.1", excerpt_hash="x", teacher="t",
            template_hash="h", sampling=SamplingConfig(), reasoning=COT, answer=ANSWER,
            reasoning_format=ReasoningFormat.think_tags,
            checks=run_checks(COT, ANSWER, ReasoningFormat.think_tags, spec, ["violence"]),
        )
        records.append(JudgedRecord(generation=generation, judge="j", judge_template_hash="h", answer_only=False,
                                    verdicts=[Verdict(score=9)], errors=[], score=9))
    write_jsonl(path, records)
    return path


def launch(tmp_path: Path, *args: str) -> None:
    """``accelerate launch --config_file cpu_2proc.yaml -m deliberate.cli ARGS``; fails with its stderr."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ACCELERATE_CONFIG),
               "--main_process_port", str(free_port()), "-m", "deliberate.cli", *args,
               "--bf16", "false", "--activation_checkpointing", "false", "--report_to", "none",
               "--disable_tqdm", "true", "--seed", "0"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(command, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]


def final_state(out: Path, step: int) -> dict:
    checkpoint = out / f"checkpoint-{step}"
    assert (checkpoint / "rng_state_0.pth").exists() and (checkpoint / "rng_state_1.pth").exists()  # 2 ranks
    return json.loads((checkpoint / "trainer_state.json").read_text())


@pytest.mark.slow
def test_filter_sft_then_rl_from_the_cli_on_two_processes(tiny_model_path, mini_spec, mini_spec_path, tmp_path):
    from deliberate.cli.app import main

    # 1. the SFT set, exported by `deliberate filter`
    sft_data = tmp_path / "sft.jsonl"
    assert main(["filter", "--judged", str(write_judged(tmp_path / "judged.jsonl", mini_spec)),
                 "--out", str(sft_data)]) == 0
    assert len(sft_data.read_text().splitlines()) == len(TOPICS)

    # 2. SFT on 2 processes; enough steps for the tiny model to learn to write the CoT
    sft = tmp_path / "sft"
    launch(tmp_path, "sft", "--model", f"hf/{tiny_model_path}", "--dataset", str(sft_data), "--output-dir", str(sft),
           "--max-steps", "40", "--per_device_train_batch_size", "4", "--learning_rate", "2e-2",
           "--lr_scheduler_type", "constant", "--save_steps", "40", "--logging_steps", "10",
           "--mix_ratio", "0")
    assert (sft / "model.safetensors").exists() and (sft / "chat_template.jinja").exists()
    state = final_state(sft, 40)
    assert state["global_step"] == 40 and state["train_batch_size"] == 4
    losses = [h["loss"] for h in state["log_history"] if "loss" in h]
    assert losses[-1] < 0.5 * losses[0], losses
    details = json.loads((sft / "manifest.json").read_text())["details"]
    assert (details["think_format"], details["loss"], details["train_rows"]) == ("field", "assistant", len(TOPICS))

    # 3. GRPO from the SFT output on 2 processes, judged by a scripted server
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps(p) + "\n" for p in RL_PROMPTS))
    rl = tmp_path / "rl"
    with LoopbackServer(lambda body: json.dumps({"score": 8})) as server:
        launch(tmp_path, "rl", "--model", f"hf/{sft}", "--dataset", str(prompts), "--spec", str(mini_spec_path),
               "--judge", "openai/judge", "--base-url", server.base_url, "--judge_cache", "none",
               "--output-dir", str(rl), "--max-steps", "2", "--per_device_train_batch_size", "2",
               "--num_generations", "2", "--max_completion_length", "40", "--temperature", "0.5",
               "--learning_rate", "1e-4",
               "--save_steps", "2", "--logging_steps", "1")
    state = final_state(rl, 2)
    logged = [h for h in state["log_history"] if "rewards/judge_reward/mean" in h]
    assert state["global_step"] == 2 and len(logged) == 2
    # the SFT policy writes CoT + answer: well formed, and answered, so the judge was asked
    assert all(h["rewards/format_reward/mean"] > 0 for h in logged), logged
    assert all(h["rewards/judge_reward/mean"] > 0 for h in logged), logged
    # each rank judges its own completions every step (2 steps x 2 ranks x 2 completions; identical
    # answers in one call are sent once)
    assert 4 <= server.received <= 8
    sent = [json.dumps(b) for b in server.requests]
    assert any(ANSWER in b for b in sent) and not any(COT in b for b in sent)  # the answer only, never the CoT
    assert (rl / "model.safetensors").exists()
