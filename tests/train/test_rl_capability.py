"""RL keeps capabilities: a KL term by default, benign prompts in the set, a low-noise judge."""

from __future__ import annotations

import json

import pytest
from support.loopback import LoopbackServer

pytest.importorskip("trl")

from deliberate.train.benign import add_benign
from deliberate.train.config import RLTrainConfig
from train.test_rl import ANSWER, SECRET, answer_dependent_verdict, rl_config, scripted_generation


def safety_rows(n: int, benign: int = 0) -> list[dict]:
    rows = [{"prompt": [{"role": "user", "content": f"attack plan {i}"}], "prompt_id": f"s{i}",
             "category": ["violence"], "expected_mode": "refuse"} for i in range(n)]
    return rows + [{"prompt": [{"role": "user", "content": f"kill a process {i}"}], "prompt_id": f"b{i}",
                    "category": ["none"], "expected_mode": None} for i in range(benign)]


def test_rl_defaults_keep_the_policy_near_sft_and_the_reward_low_noise():
    config = RLTrainConfig(model="hf/m", dataset="p.jsonl", output_dir="o", judge="openai/j", report_to="none")
    assert config.beta == 0.04 and (config.judge_k, config.judge_temperature) == (1, 0.0)
    assert (config.benign_dataset, config.benign_ratio) == (None, 0.2)


def test_benign_prompts_top_the_set_up_to_the_ratio(tmp_path, shared_data):
    rows, details = add_benign(safety_rows(8, benign=1), None, 0.2)  # 8 safety -> 2 benign wanted
    [repeat] = rows[9:]
    assert repeat["prompt_id"] == "b0#benign1" and repeat["expected_mode"] == "comply"
    assert (details["added"], details["benign_rows"], details["ratio_reached"]) == (1, 2, 0.2)

    prompts = tmp_path / "benign.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"h{i}", "prompt": f"Say hello {i}", "category": "violence"}) + "\n"
                               for i in range(10)))
    rows, details = add_benign(safety_rows(12), str(prompts), 0.2)
    added = rows[12:]
    assert len(added) == 3 and details["added"] == 3 and details["dataset"] == str(prompts)
    assert all(r["category"] == ["none"] and r["expected_mode"] == "comply" for r in added)  # every prompt benign
    assert len({r["prompt_id"] for r in rows}) == 15

    gsm8k = shared_data / "capability" / "gsm8k" / "train.jsonl"
    rows, _ = add_benign(safety_rows(4), str(gsm8k), 0.2)
    assert rows[4]["prompt"][0]["content"].endswith("?") and rows[4]["prompt_id"].startswith("benign-gsm8k-train-")

    unchanged, details = add_benign(safety_rows(3, benign=1), None, 0.2)  # 1 of 4 already benign
    assert len(unchanged) == 4 and details["added"] == 0
    assert add_benign(safety_rows(3), None, 0.0)[0] == safety_rows(3)


def test_no_benign_source_is_said_and_recorded(caplog):
    rows, details = add_benign(safety_rows(8), None, 0.2)
    assert len(rows) == 8 and "no benign prompts added" in details["note"]
    assert "no benign prompts added" in caplog.text


def test_grpo_with_kl_benign_prompts_and_a_deterministic_judge(tiny_model_path, mini_spec_path, tmp_path):
    from transformers import AutoTokenizer

    from deliberate.train.rl import run_rl

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    texts = [f"<think>\n{SECRET}\n</think>\n\n{ANSWER}<|im_end|>", f"<think>\n{SECRET} too\n</think>\n\nNo.<|im_end|>"]
    benign = tmp_path / "benign.jsonl"
    benign.write_text("".join(json.dumps({"prompt": f"What is {i} + {i}?"}) + "\n" for i in range(6)))
    with LoopbackServer(answer_dependent_verdict) as server:
        config = rl_config(tiny_model_path, tmp_path, mini_spec_path, judge="openai/judge", base_url=server.base_url,
                           judge_cache="none", benign_dataset=str(benign), benign_ratio=0.5)
        result = run_rl(config, callbacks=[scripted_generation(tok, texts)])
    assert result.trainer.ref_model is not None  # beta > 0: a reference policy to stay near
    logged = [h for h in result.log_history if "rewards/judge_reward/mean" in h]
    assert len(logged) == 2 and all("kl" in h for h in logged)
    assert {b["temperature"] for b in server.requests} == {0.0}  # the judge, sampled greedily
    assert all(SECRET not in json.dumps(b) for b in server.requests)
    prompts = [r["prompt"][0]["content"] for r in result.trainer.train_dataset]
    assert len(prompts) == 4 + 2 and sum(p.startswith("What is") for p in prompts) == 2  # 3 safety -> 3 benign
    details = json.loads((result.output_dir / "manifest.json").read_text())["details"]
    assert details["benign"]["added"] == 2 and details["benign"]["ratio_reached"] == 0.5
    assert details["judge_sampling"] == {"k": 1, "temperature": 0.0}
