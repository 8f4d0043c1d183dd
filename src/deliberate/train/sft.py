"""The SFT recipe: teach the model to recall the spec in its chain of thought.

Rows are (user prompt -> CoT citing the spec + answer) with the spec removed from the context,
so the model learns to bring the policy up itself. Loss falls on the assistant's tokens only.
Everything else (optimizer, packing, checkpoints, logging, distribution) is TRL's SFTTrainer,
configured by the same fields and flags.

Python::

    config = load_config(SFTTrainConfig, "configs/sft.yaml", max_steps=10)
    result = run_sft(config)
"""

from __future__ import annotations

from typing import Any

from deliberate.train.common import (
    TrainResult,
    lora_config,
    prepare_model,
    start_manifest,
    train_and_save,
)
from deliberate.train.config import SFTTrainConfig
from deliberate.train.data import ChatPlan, load_tokenizer, sft_dataset


def build_sft_trainer(config: SFTTrainConfig, callbacks: list[Any] | None = None) -> tuple[Any, ChatPlan]:
    """An SFTTrainer ready to train, and the chat plan its data was rendered with."""
    from trl import SFTTrainer

    source = prepare_model(config)
    tokenizer = load_tokenizer(source.path, config.chat_template_path)
    dataset, plan = sft_dataset(config, tokenizer)
    config.chat_template_path = None  # already applied to the tokenizer
    config.assistant_only_loss = plan.loss == "assistant"
    if plan.loss == "completion":
        config.completion_only_loss = True
    trainer = SFTTrainer(
        model=source.path, args=config, train_dataset=dataset, processing_class=tokenizer,
        peft_config=lora_config(config), callbacks=callbacks,
    )
    return trainer, plan


def run_sft(config: SFTTrainConfig, callbacks: list[Any] | None = None) -> TrainResult:
    """Train, checkpoint, save model + tokenizer to ``output_dir`` (``hf/<output_dir>`` loads it)."""
    trainer, plan = build_sft_trainer(config, callbacks)
    manifest = start_manifest(config, "sft", think_format=plan.think_format, loss=plan.loss,
                              train_rows=len(trainer.train_dataset), mix=plan.mix)
    return train_and_save(trainer, config, manifest)
