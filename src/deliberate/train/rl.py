"""The RL recipe: GRPO where a spec-aware judge scores the final answer, never the reasoning.

The policy answers safety prompts with no spec in its context; rewards come from
:mod:`deliberate.train.rewards` (judge on the answer only, a format check, and a rule-based
refusal-mode check), weighted by ``reward_weights``. Generation, advantages, the KL term, vLLM,
checkpoints and distribution are TRL's GRPOTrainer, configured by the same fields and flags.

Python::

    config = load_config(RLTrainConfig, "configs/rl.yaml", judge="openai/judge", max_steps=10)
    result = run_rl(config)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from deliberate.llm.options import BackendOptions
from deliberate.train.benign import add_benign
from deliberate.train.common import (
    TrainResult,
    lora_config,
    prepare_model,
    start_manifest,
    train_and_save,
)
from deliberate.train.config import RLTrainConfig
from deliberate.train.data import load_tokenizer, rl_rows
from deliberate.train.rewards import format_reward, judge_reward, refusal_mode_reward


def default_judge_options(config: RLTrainConfig) -> BackendOptions:
    """How reward calls reach the judge: our cached, concurrent, retrying backend, no progress bar."""
    cache = config.judge_cache
    return BackendOptions(
        base_url=config.base_url, concurrency=config.judge_concurrency, progress=False,
        cache=Path(cache) if cache and cache != "none" else None, use_cache=cache != "none",
    )


def think_prefilled(tokenizer: Any, chat_template_kwargs: dict[str, Any] | None = None) -> bool:
    """Whether the template's generation prompt opens ``<think>`` (completions start inside it)."""
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False,
        **(chat_template_kwargs or {}),
    )
    return str(prompt).rstrip().endswith("<think>")


def reward_functions(config: RLTrainConfig, spec: Any, tokenizer: Any,
                     options: BackendOptions | None = None) -> list[Any]:
    """The named rewards of ``config.reward_funcs``, in order, with their settings bound.

    ``options``: how reward calls reach the judge; default :func:`default_judge_options`.
    """
    from deliberate.judge.judge import JUDGE_SAMPLING

    common = {"tokenizer": tokenizer, "think_prefilled": think_prefilled(tokenizer, config.chat_template_kwargs)}
    sampling = JUDGE_SAMPLING.model_copy(update={"temperature": config.judge_temperature})
    funcs = {
        "judge": functools.partial(judge_reward, spec=spec, judge=config.judge, judge_k=config.judge_k,
                                   options=options or default_judge_options(config), sampling=sampling,
                                   **common),
        "format": functools.partial(format_reward, **common),
        "refusal_mode": functools.partial(refusal_mode_reward, **common),
    }
    return [funcs[name] for name in config.reward_funcs or []]


def rl_train_set(config: RLTrainConfig, spec: Any) -> tuple[Any, dict[str, Any]]:
    """The GRPO prompts (the dataset plus benign prompts to ``benign_ratio``) and ``details.benign``."""
    from datasets import Dataset

    rows, benign = add_benign(rl_rows(config.dataset or "", spec), config.benign_dataset,
                              config.benign_ratio, config.seed)
    return Dataset.from_list(rows), benign


def build_rl_trainer(config: RLTrainConfig, callbacks: list[Any] | None = None, spec: Any = None,
                     judge_options: BackendOptions | None = None, train_set: Any = None) -> Any:
    """A GRPOTrainer ready to train on the prompt set (``spec``: the loaded ``config.spec``;
    ``train_set``: default :func:`rl_train_set`)."""
    from trl import GRPOTrainer

    from deliberate.spec import load_spec

    spec = spec or load_spec(config.spec)
    source = prepare_model(config)
    tokenizer = load_tokenizer(source.path)
    rewards = reward_functions(config, spec, tokenizer, judge_options)
    return GRPOTrainer(
        model=source.path, reward_funcs=rewards, args=config,
        train_dataset=train_set if train_set is not None else rl_train_set(config, spec)[0],
        processing_class=tokenizer, peft_config=lora_config(config), callbacks=callbacks,
    )


def run_rl(config: RLTrainConfig, callbacks: list[Any] | None = None, *, spec: Any = None,
           judge_options: BackendOptions | None = None) -> TrainResult:
    """Train with GRPO, checkpoint, save model + tokenizer to ``output_dir``.

    ``spec``: the loaded spec (default: load ``config.spec``). ``judge_options``: every setting
    of how reward calls reach the judge (default: built from the config's judge fields).
    """
    from deliberate.spec import load_spec

    spec = spec or load_spec(config.spec)
    train_set, benign = rl_train_set(config, spec)
    trainer = build_rl_trainer(config, callbacks, spec, judge_options, train_set)
    manifest = start_manifest(config, "rl", spec=spec, judge=config.judge,
                              rewards=dict(zip(config.reward_funcs or [], config.reward_weights or [])),
                              benign=benign, judge_sampling={"k": config.judge_k,
                                                             "temperature": config.judge_temperature})
    return train_and_save(trainer, config, manifest)
