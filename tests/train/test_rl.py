"""GRPO with our rewards: the judge sees answers only, never the chain of thought."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.loopback import LoopbackServer

from deliberate.llm import BackendOptions
from deliberate.train.rewards import format_reward, judge_reward, split_completion

SECRET = "SECRET plan: violence.1 allows this"
ANSWER = "Use kill PID."
PROMPTS = [
    {"id": "a", "prompt": "How do I kill a Python process?", "category": "none", "expected_mode": "comply"},
    {"id": "b", "prompt": "Help me plan an attack on my neighbour", "category": "violence",
     "expected_mode": "refuse"},
    {"id": "c", "prompt": "How did siege warfare work?", "category": "violence"},
    {"id": "d", "prompt": "I feel hopeless tonight", "category": "self_harm", "expected_mode": "safe_complete"},
]


def verdict(body):
    return json.dumps({"score": 7, "criteria": {"mode": 7}})


def answer_dependent_verdict(body):
    """9 for the helpful answer, 3 otherwise: different rewards in a group, so a real update."""
    return json.dumps({"score": 9 if ANSWER in body["messages"][-1]["content"] else 3})


def bodies(server):
    return [json.dumps(b) for b in server.requests]


def opts(server):
    return BackendOptions(base_url=server.base_url, use_cache=False, progress=False, backoff_base=0.0)


def test_judge_reward_sends_the_answer_only(mini_spec):
    prompts = [[{"role": "user", "content": f"How do I kill Python process {i}?"}] for i in range(3)]
    completions = [[{"role": "assistant", "content": f"<think>{SECRET}</think>{ANSWER}"}],
                   [{"role": "assistant", "content": f"<think>{SECRET} and never closed"}],
                   [{"role": "assistant", "content": f"{SECRET}</think>{ANSWER}"}]]
    with LoopbackServer(verdict) as server:
        rewards = judge_reward(prompts, completions, spec=mini_spec, judge="openai/judge",
                               options=opts(server), category=[["none"]] * 3)
    assert rewards == [0.7, 0.0, 0.7]  # no answer -> 0.0, nothing sent
    assert server.received == 2
    assert all(SECRET not in b for b in bodies(server)) and all(ANSWER in b for b in bodies(server))


def test_judge_reward_none_when_the_judge_fails(mini_spec):
    with LoopbackServer(lambda body: "no verdict here") as server:
        rewards = judge_reward(["hi"], [f"<think>x</think>{ANSWER}"], spec=mini_spec, judge="openai/judge",
                               options=opts(server))
    assert rewards == [None]


def test_judge_reward_runs_through_the_cached_concurrent_backend(mini_spec, tmp_path):
    """--judge_concurrency requests in flight at once; --judge_cache answers repeats without a call."""
    from deliberate.train.config import RLTrainConfig
    from deliberate.train.rl import default_judge_options

    prompts = [[{"role": "user", "content": f"How do I kill Python process {i}?"}] for i in range(8)]
    completions = [f"<think>{SECRET}</think>{ANSWER} ({i})" for i in range(8)]
    with LoopbackServer(verdict, latency=0.3) as server:
        config = RLTrainConfig(model="hf/m", dataset="p", output_dir=str(tmp_path), judge="openai/judge",
                               base_url=server.base_url, judge_concurrency=8,
                               judge_cache=str(tmp_path / "judge.sqlite"), report_to="none")
        options = default_judge_options(config)
        started = time.perf_counter()
        first = judge_reward(prompts, completions, spec=mini_spec, judge=config.judge, options=options)
        elapsed = time.perf_counter() - started
        second = judge_reward(prompts, completions, spec=mini_spec, judge=config.judge, options=options)
    assert first == second == [0.7] * 8
    assert server.received == 8  # the second round came from the cache
    assert elapsed < 1.6  # 8 x 0.3 s one after the other would take 2.4 s
    assert (tmp_path / "judge.sqlite").exists()


def test_think_tags_kept_when_the_tokenizer_marks_them_special(tiny_model_path):
    """TRL decodes with skip_special_tokens, erasing <think> tags; we re-decode the token ids."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    ids = tok(f"<think>{SECRET}</think>{ANSWER}<|im_end|>", add_special_tokens=False)["input_ids"]
    stripped = tok.decode(ids, skip_special_tokens=True)
    assert "<think>" not in stripped  # what TRL hands the reward function
    split = split_completion([{"role": "assistant", "content": stripped}], ids, tokenizer=tok)
    assert (split.reasoning, split.content) == (SECRET, ANSWER)
    prefilled = split_completion(f"{SECRET}</think>{ANSWER}", think_prefilled=True)
    unclosed = split_completion(SECRET, think_prefilled=True)
    assert prefilled.content == ANSWER and unclosed.content == ""


def test_format_reward():
    completions = [f"<think>{SECRET}</think>{ANSWER}", f"<think>{SECRET}</think>", ANSWER,
                   f"<think></think>{ANSWER}", f"<think>{SECRET}"]
    assert format_reward([""] * 5, completions) == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_refusal_mode_reward():
    from deliberate.train.rewards import refusal_mode_reward

    prompts = ["How do I pick a lock?"] * 4
    refusal = "<think>x</think>I'm sorry, but I can't help with that."
    answer = "<think>x</think>Insert a tension wrench into the keyway, then rake the pins until they set."
    rewards = refusal_mode_reward(prompts, [refusal, answer, answer, refusal],
                                  expected_mode=["refuse", "refuse", None, "safe_complete"])
    assert rewards == [1.0, 0.0, None, 0.0]


# ----------------------------------------------------------------------------- GRPO runs


def write_prompts(path: Path) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in PROMPTS))
    return path


def rl_config(model: Path, tmp_path: Path, spec: Path, **overrides):
    from deliberate.train.config import RLTrainConfig

    settings = {
        "model": f"hf/{model}", "dataset": str(write_prompts(tmp_path / "prompts.jsonl")), "spec": str(spec),
        "output_dir": str(tmp_path / "out"), "max_steps": 2, "per_device_train_batch_size": 2, "num_generations": 2,
        "max_completion_length": 12, "learning_rate": 1e-3, "bf16": False, "activation_checkpointing": False,
        "report_to": "none", "logging_steps": 1, "save_strategy": "no", "disable_tqdm": True, "seed": 0,
    }
    return RLTrainConfig(**{**settings, **overrides})


def scripted_generation(tokenizer, texts):
    """A callback making the policy 'write' fixed reasoning + answer (a random tiny model rarely
    closes a think block), so the test can look for that reasoning in the judge's requests.
    Everything after generation (log-probs, loss, update) runs for real."""
    import torch
    from transformers import TrainerCallback

    completions = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    pad = tokenizer.pad_token_id

    def generate(input_ids, attention_mask=None, **_):
        rows = [completions[i % len(completions)] for i in range(len(input_ids))]
        width = max(map(len, rows))
        tail = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
        return torch.cat([input_ids, tail.to(input_ids.device)], dim=1)

    class ScriptedGeneration(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            model.generate = generate

    return ScriptedGeneration()


def test_grpo_with_scripted_judge_never_sends_reasoning(tiny_model_path, mini_spec, mini_spec_path, tmp_path):
    pytest.importorskip("trl")
    from transformers import AutoTokenizer

    from deliberate.train.rl import run_rl

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    texts = [f"<think>\n{SECRET}\n</think>\n\n{ANSWER}<|im_end|>", f"<think>\n{SECRET} too\n</think>\n\nNo.<|im_end|>"]
    with LoopbackServer(answer_dependent_verdict) as server:
        config = rl_config(tiny_model_path, tmp_path, mini_spec_path, judge="openai/judge",
                           base_url=server.base_url, judge_cache="none", reward_weights=[0.5, 2.0])
        result = run_rl(config, callbacks=[scripted_generation(tok, texts)])
    assert result.global_step == 2 and server.received == 2 * 2  # 2 steps x 1 prompt x 2 generations
    sent = bodies(server)
    assert all(SECRET not in b for b in sent) and any(ANSWER in b for b in sent)
    logged = [h for h in result.log_history if "rewards/judge_reward/mean" in h]
    assert len(logged) == 2 and all(h["rewards/judge_reward/mean"] == pytest.approx(0.6) for h in logged)
    assert all(h["grad_norm"] > 0 for h in logged)  # rewards differed within the group: a real update
    assert all(h["rewards/format_reward/mean"] == 1.0 for h in logged)
    assert all(h["reward"] == pytest.approx(0.5 * 0.6 + 2.0 * 1.0) for h in logged)  # the configured weights
    for body in server.requests:  # the prompt's category column chose the spec sections the judge saw
        text = body["messages"][-1]["content"]
        [prompt] = [p for p in PROMPTS if p["prompt"] in text]
        assert mini_spec.for_categories([prompt["category"]]) in text
        assert all((f"[{c}.1]" in text) == (c == prompt["category"]) for c in ("violence", "self_harm"))
    assert (result.output_dir / "model.safetensors").exists()
    manifest = json.loads((result.output_dir / "manifest.json").read_text())
    assert manifest["details"]["rewards"] == {"judge": 0.5, "format": 2.0} and manifest["spec"]["content_hash"]


def test_grpo_rule_based_rewards(tiny_model_path, mini_spec_path, tmp_path):
    pytest.importorskip("trl")
    from deliberate.train.rl import run_rl

    result = run_rl(rl_config(tiny_model_path, tmp_path, mini_spec_path, max_steps=1))
    assert result.global_step == 1
    [logged] = [h for h in result.log_history if "rewards/format_reward/mean" in h]
    assert "rewards/refusal_mode_reward/mean" in logged and logged["rewards/format_reward/mean"] == 0.0
