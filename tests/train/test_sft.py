"""The SFT recipe on a tiny model: loss, assistant-only labels, CoT in the text, resume, LoRA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")

from deliberate.train.config import SFTTrainConfig
from deliberate.train.data import (
    format_messages,
    mix_conversations,
    normalize_message,
)
from deliberate.train.sft import build_sft_trainer, run_sft

COT = "Killing a process is benign per violence.1; style.compliance."
ANSWER = "Use kill PID or Ctrl+C."
# Renders reasoning nowhere and has no {% generation %} markers (like many shipped templates).
PLAIN_TEMPLATE = (
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def write_sft_data(path: Path, n: int = 8) -> Path:
    rows = [
        {"messages": [{"role": "user", "content": f"How do I kill python process {i}?"},
                      {"role": "assistant", "content": ANSWER, "reasoning_content": COT}],
         "prompt_id": f"p{i}", "sample_index": 0, "category": ["none"], "score": 9.0,
         "spec_name": "mini", "spec_version": "0.1"}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def tiny_config(model: Path, tmp_path: Path, **overrides) -> SFTTrainConfig:
    settings = {
        "model": f"hf/{model}", "dataset": str(write_sft_data(tmp_path / "sft.jsonl")),
        "output_dir": str(tmp_path / "out"), "max_steps": 2, "per_device_train_batch_size": 4,
        "learning_rate": 5e-3, "bf16": False, "activation_checkpointing": False, "report_to": "none",
        "logging_steps": 1, "save_strategy": "no", "disable_tqdm": True, "seed": 0,
        "mix_ratio": 0.0,  # the default capability mix (GSM8K) is tested in test_capability_mix.py
    }
    return SFTTrainConfig(**{**settings, **overrides})


def test_trains_saves_and_reloads_through_hf_backend(tiny_model_path, tmp_path):
    from support.tiny_model import CHAT_TEMPLATE
    from transformers import AutoTokenizer

    from deliberate.llm import BackendOptions, ModelRequest, SamplingConfig, generate
    from deliberate.llm.types import ChatMessage

    result = run_sft(tiny_config(tiny_model_path, tmp_path, max_steps=10, learning_rate=1e-2))
    losses = [h["loss"] for h in result.log_history if "loss" in h]
    assert len(losses) == 10 and losses[-1] < losses[0] - 0.5, losses
    out = result.output_dir
    assert (out / "model.safetensors").exists() and (out / "chat_template.jinja").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sft" and manifest["details"]["loss"] == "assistant" and "trl" in manifest["versions"]
    assert manifest["git_revision"] is None or len(manifest["git_revision"]) == 40

    saved = AutoTokenizer.from_pretrained(out)  # the base model's chat template, not TRL's training copy
    assert saved.chat_template == CHAT_TEMPLATE
    rendered = saved.apply_chat_template(
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": ANSWER, "reasoning_content": COT}],
        tokenize=False)
    assert f"<think>\n{COT}\n</think>" in rendered

    request = ModelRequest(id="r", messages=[ChatMessage(role="user", content="hello")],
                           config=SamplingConfig(max_tokens=8, temperature=0.0))
    [reply] = generate([request], f"hf/{out}", BackendOptions(use_cache=False, progress=False)).results
    assert reply.ok and reply.response.usage.output_tokens > 0


def test_loss_only_on_assistant_tokens_and_cot_survives(tiny_model_path, tmp_path):
    trainer, plan = build_sft_trainer(tiny_config(tiny_model_path, tmp_path))
    assert (plan.think_format, plan.loss) == ("field", "assistant")
    assert trainer.args.assistant_only_loss
    assert set(trainer.train_dataset.column_names) <= {"messages", "input_ids", "labels"}
    tok = trainer.processing_class
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = tok.decode([i for i, lab in zip(ids, labels) if lab != -100])
    masked = tok.decode([i for i, lab in zip(ids, labels) if lab == -100])
    assert COT in trained and ANSWER in trained and "<think>" in trained  # CoT survived templating
    assert "How do I kill python process" in masked and "<|im_start|>user" in masked
    assert "python process" not in trained and "user" not in trained
    assert all(lab in (-100, i) for i, lab in zip(ids, labels))


def test_template_without_markers_or_reasoning_falls_back(tiny_model_path, tmp_path):
    template = tmp_path / "plain.jinja"
    template.write_text(PLAIN_TEMPLATE)
    trainer, plan = build_sft_trainer(tiny_config(tiny_model_path, tmp_path, chat_template_path=str(template)))
    assert (plan.think_format, plan.loss) == ("inline", "completion")
    assert trainer.args.completion_only_loss and not trainer.args.assistant_only_loss
    tok = trainer.processing_class
    row = trainer.train_dataset[0]
    trained = tok.decode([i for i, lab in zip(row["input_ids"], row["labels"]) if lab != -100])
    assert trained.startswith("<think>") and COT in trained and ANSWER in trained
    assert "python process" not in trained


def test_resume_from_last_checkpoint(tiny_model_path, tmp_path):
    from transformers import TrainerCallback

    class CountSteps(TrainerCallback):
        steps = 0

        def on_step_end(self, args, state, control, **kwargs):
            CountSteps.steps += 1

    first = run_sft(tiny_config(tiny_model_path, tmp_path, max_steps=2, save_strategy="steps", save_steps=1))
    assert first.global_step == 2 and (first.output_dir / "checkpoint-2").is_dir()
    second = run_sft(tiny_config(tiny_model_path, tmp_path, max_steps=4, save_strategy="steps", save_steps=1,
                                 resume=True), callbacks=[CountSteps()])
    assert second.resumed_from and second.resumed_from.endswith("checkpoint-2")
    assert second.global_step == 4 and CountSteps.steps == 2  # only steps 3 and 4 were run


def test_lora_merge_writes_a_plain_model(tiny_model_path, tmp_path):
    from transformers import AutoModelForCausalLM

    result = run_sft(tiny_config(tiny_model_path, tmp_path, max_steps=1, use_lora=True, merge_lora=True,
                                 lora_r=4, lora_alpha=8))
    out = result.output_dir
    assert (out / "adapter" / "adapter_config.json").exists()
    assert not (out / "adapter_config.json").exists() and (out / "model.safetensors").exists()
    model = AutoModelForCausalLM.from_pretrained(out)
    assert type(model).__name__ == "Qwen3ForCausalLM"
    assert not any("lora" in name for name, _ in model.named_parameters())


def test_from_a_gguf_file_with_lora_merged(tmp_path_factory, tmp_path):
    """``--model .../file.gguf``: dequantized once into output_dir/gguf_base, trained, merged, saved."""
    pytest.importorskip("gguf")
    from support.tiny_model import CHAT_TEMPLATE, build_tiny_gguf
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_file = build_tiny_gguf(tmp_path_factory.mktemp("gguf"))
    assert not (gguf_file.parent / "config.json").exists()  # nothing to load but the .gguf file
    result = run_sft(tiny_config(gguf_file, tmp_path, max_steps=2, use_lora=True, merge_lora=True,
                                 lora_r=4, lora_alpha=8))
    out = result.output_dir
    assert result.global_step == 2 and (out / "gguf_base" / "config.json").exists()
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(out / "gguf_base")
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.config.head_dim == 128 and not any("lora" in n for n, _ in model.named_parameters())
    assert AutoTokenizer.from_pretrained(out).chat_template == CHAT_TEMPLATE


def test_mix_dataset_is_mixed_in_at_the_ratio(tiny_model_path, tmp_path):
    general = tmp_path / "general.jsonl"
    general.write_text("".join(
        json.dumps({"messages": [{"role": "user", "content": f"Say hello {i}"},
                                 {"role": "assistant", "content": "hello world"}]}) + "\n" for i in range(20)))
    trainer, _ = build_sft_trainer(tiny_config(tiny_model_path, tmp_path, mix_dataset=str(general), mix_ratio=0.25))
    rows = trainer.train_dataset
    tok = trainer.processing_class
    texts = [tok.decode(row["input_ids"]) for row in rows]
    assert len(rows) == 8 + 3 and sum("Say hello" in t for t in texts) == 3  # 3 of 11 ~ 0.25
    general_row = next(r for r, t in zip(rows, texts) if "Say hello" in t)
    batch = trainer.data_collator([general_row])
    trained = tok.decode([i for i, lab in zip(batch["input_ids"][0], batch["labels"][0]) if lab != -100])
    assert "hello world" in trained and "Say hello" not in trained


def test_packing_keeps_conversations_apart_and_the_assistant_mask(tiny_model_path, tmp_path):
    """TRL's BFD packing (padding-free): several conversations in one row, position_ids restarting at
    each, labels masked per conversation, and no attention across conversations (transformers builds
    the block mask from position_ids when there is no attention mask and no cache, as in training)."""
    import torch

    data = tmp_path / "varied.jsonl"
    data.write_text("".join(json.dumps(
        {"messages": [{"role": "user", "content": f"How do I kill python process {i}?" + " please" * i},
                      {"role": "assistant", "content": ANSWER * (1 + i % 3), "reasoning_content": COT}]}) + "\n"
        for i in range(8)))
    trainer, _ = build_sft_trainer(tiny_config(tiny_model_path, tmp_path, dataset=str(data), packing=True,
                                               max_length=256, per_device_train_batch_size=1))
    assert trainer.padding_free
    row = trainer.train_dataset[0]
    lengths = row["seq_lengths"]
    assert len(lengths) > 1  # several conversations in one row
    batch = trainer.data_collator([row])
    assert "attention_mask" not in batch
    positions = batch["position_ids"][0].tolist()
    assert positions.count(0) == len(lengths)  # positions restart at every conversation
    tok = trainer.processing_class
    trained = tok.decode([i for i, lab in zip(batch["input_ids"][0], batch["labels"][0]) if lab != -100])
    assert trained.count(COT) == len(lengths) and "python process" not in trained

    model = trainer.model.eval()
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits[0]
        start = lengths[0]
        alone = model(input_ids=batch["input_ids"][:, start:start + lengths[1]], use_cache=False).logits[0]
    torch.testing.assert_close(packed[start:start + lengths[1]], alone, atol=1e-4, rtol=1e-4)
    assert trainer.train().global_step == 2


def test_normalize_takes_the_cot_from_either_export_style():
    inline = normalize_message({"role": "assistant", "content": f"<think>\n{COT}\n</think>\n\n{ANSWER}"})
    field = normalize_message({"role": "assistant", "content": ANSWER, "thinking": COT})
    assert inline == field == {"role": "assistant", "content": ANSWER, "reasoning": COT}
    assert format_messages([inline], "inline", "reasoning_content")[0]["content"].startswith("<think>\n")
    assert format_messages([inline], "field", "thinking")[0] == {"role": "assistant", "content": ANSWER,
                                                                  "thinking": COT}


def test_mix_ratio():
    main, extra = list(range(30)), [f"x{i}" for i in range(100)]
    mixed = mix_conversations(main, extra, 0.25, seed=1)
    assert len(mixed) == 40 and sum(isinstance(r, str) for r in mixed) == 10
    small = mix_conversations(main, extra[:4], 0.5)  # too little extra: all of it, ratio not reached
    assert len(small) == 34 and set(small[30:]) == set(extra[:4])
    assert mix_conversations(main, extra, 0.0) == main
