"""Training configs: TRL's ``SFTConfig`` / ``GRPOConfig`` plus the fields deliberative alignment needs.

Every field of TRL's configs (and of ``transformers.TrainingArguments``) keeps its meaning and
its flag; ours are added with help text. A config comes from flags, from ``--config x.yaml``, or
both (flags win), through TRL's own parser, so ``deliberate sft --help`` lists every field.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from trl import GRPOConfig, SFTConfig, TrlParser

from deliberate.errors import DeliberateError
from deliberate.train.capability_mix import DEFAULT_MIX_RATIO, GSM8K

THINK_FORMATS = ("auto", "field", "inline")
REWARD_NAMES = ("judge", "format", "refusal_mode")
DEFAULT_REWARD_WEIGHTS = {"judge": 1.0, "format": 0.2, "refusal_mode": 1.0}

C = TypeVar("C")


def _help(text: str) -> dict[str, str]:
    """A dataclass field's help text, as TRL's parser reads it."""
    return {"help": text}
log = logging.getLogger(__name__)

# TRL's own defaults set transformers' renamed `gradient_checkpointing` field, which warns on
# every config built; nothing a user can act on, so it is not shown.
warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*deprecated", category=FutureWarning)


@dataclass
class ModelFields:
    """What to train and how to resume; shared by SFT and RL."""

    model: str | None = field(
        default=None,
        metadata={"help": "Model to train: hf/PATH, a local path or a hub id; a path ending in .gguf "
                          "loads that GGUF file (dequantized)."},
    )
    dataset: str | None = field(
        default=None,
        metadata={"help": "Training data: a JSONL file, or hf:NAME[:SPLIT]. SFT: the export of "
                          "`deliberate filter`; RL: prompts {id, prompt, category, expected_mode}."},
    )
    resume: bool = field(
        default=False,
        metadata={"help": "Resume from the last checkpoint-* in output_dir (fresh start if none)."},
    )
    use_lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["all-linear"],
        metadata={"help": "Modules to adapt: 'all-linear' or module names (q_proj v_proj ...)."},
    )
    merge_lora: bool = field(
        default=False,
        metadata={"help": "After LoRA training, save the merged plain model to output_dir "
                          "(the adapter goes to output_dir/adapter)."},
    )

    def _check_model_fields(self) -> None:
        if not self.model:
            raise DeliberateError("no model given (--model hf/PATH, or `model:` in the config)")
        if not self.dataset:
            raise DeliberateError("no dataset given (--dataset FILE, or `dataset:` in the config)")
        if self.merge_lora and not self.use_lora:
            raise DeliberateError("--merge_lora needs --use_lora")


@dataclass
class SFTTrainConfig(SFTConfig, ModelFields):
    """SFT on (prompt -> chain of thought + answer), spec removed from the context."""

    mix_dataset: str | None = field(
        default=GSM8K,
        metadata={"help": "Capability data mixed into SFT so safety training does not cost general "
                          "reasoning. 'gsm8k' (default): the public GSM8K train set (downloaded once, "
                          "sha256-checked), each worked solution as the chain of thought and the final "
                          "number as the answer; a local JSONL with question/answer columns is read as "
                          "GSM8K; else chat data (JSONL or hf:NAME[:SPLIT], `messages` column). Offline "
                          "with no copy: an error (pass a local file, or --mix_ratio 0)."},
    )
    mix_ratio: float = field(
        default=DEFAULT_MIX_RATIO,
        metadata={"help": "Fraction of the final training set drawn from mix_dataset (0 <= r < 1; 0: no "
                          "mix, nothing downloaded). 0.2 keeps 4 in 5 updates on the safety set while "
                          "replaying enough multi-step reasoning to hold the model's own; a starting "
                          "point, not a tuned value: raise it if the capability eval drops."},
    )
    think_format: str = field(
        default="auto",
        metadata={"help": "How the chain of thought reaches the chat template: 'field' keeps it in "
                          "reasoning_field, 'inline' writes <think>COT</think> before the answer, 'auto' "
                          "renders one example and keeps the first form whose CoT survives.",
                  "choices": list(THINK_FORMATS)},
    )
    reasoning_field: str = field(
        default="reasoning_content",
        metadata={"help": "Assistant message key the template reads the CoT from in 'field' format "
                          "(Qwen3, DeepSeek: reasoning_content; gpt-oss: thinking)."},
    )

    def __post_init__(self) -> None:
        self._check_model_fields()
        if not 0.0 <= self.mix_ratio < 1.0:
            raise DeliberateError(f"mix_ratio must be in [0, 1), got {self.mix_ratio}")
        if isinstance(self.mix_dataset, str) and self.mix_dataset.lower() in ("", "none", "null"):
            self.mix_dataset = None
        if self.mix_ratio > 0 and not self.mix_dataset:
            raise DeliberateError(f"mix_ratio {self.mix_ratio} > 0 needs a mix_dataset (--mix_ratio 0: "
                                  "no capability mix)")
        if self.think_format not in THINK_FORMATS:
            raise DeliberateError(f"think_format must be one of {', '.join(THINK_FORMATS)}")
        _check_launch()
        _cpu_when_no_accelerator(self)
        super().__post_init__()


@dataclass
class RLTrainConfig(GRPOConfig, ModelFields):
    """GRPO where a spec-aware judge scores the final answer only (never the chain of thought)."""

    spec: str = field(default="default", metadata={"help": "Spec YAML file, or 'default'."})
    judge: str | None = field(
        default=None,
        metadata={"help": "Judge model ref (e.g. openai/NAME). Without one, rule-based rewards only."},
    )
    base_url: str | None = field(
        default=None, metadata={"help": "Judge's OpenAI-compatible server URL (else $OPENAI_BASE_URL)."}
    )
    judge_k: int = field(
        default=1,
        metadata={"help": "Judgments per completion (minimum taken). 1 with the default judge_temperature "
                          "0, where more judgments would repeat the first."},
    )
    judge_temperature: float = field(
        default=0.0,
        metadata={"help": "Judge sampling temperature for the reward. 0 (default): the same answer gets the "
                          "same score, so rewards within a GRPO group differ because the answers do, not "
                          "because the judge drew differently; at T > 0 raise judge_k."},
    )
    beta: float = field(
        default=0.04,
        metadata={"help": "KL coefficient to the starting (reference) policy. 0.04 (DeepSeekMath's GRPO value; "
                          "TRL's default is 0) holds the policy near the SFT model on everything the safety "
                          "reward does not see, which is what keeps capabilities. Loads a reference copy "
                          "(with LoRA, the base with the adapter off); 0 turns it off."},
    )
    benign_dataset: str | None = field(default=None, metadata=_help(
        "Benign RL prompts (a prompt file, or a GSM8K JSONL), judged as category none, mode comply. "
        "Default: the dataset's own 'none'-category prompts, repeated."))
    benign_ratio: float = field(default=0.2, metadata=_help(
        "Share of the RL prompts that are benign (0 <= r < 1), topped up from benign_dataset so "
        "GRPO also rewards plain helpfulness, not only caution; 0: as the dataset is."))
    judge_concurrency: int | None = field(
        default=None, metadata={"help": "Judge requests in flight (default 64)."}
    )
    judge_cache: str | None = field(
        default=None,
        metadata={"help": "SQLite cache for judge replies (default: user cache dir; 'none': off). "
                          "Identical answers then get identical scores without a new call."},
    )
    reward_funcs: list[str] | None = field(
        default=None,
        metadata={"help": "Rewards by name, from: judge, format, refusal_mode. Default: judge format "
                          "with a judge, else refusal_mode format. Weights: reward_weights, same order "
                          "(default judge 1.0, format 0.2, refusal_mode 1.0)."},
    )

    def __post_init__(self) -> None:
        self._check_model_fields()
        names = self.reward_funcs or (["judge", "format"] if self.judge else ["refusal_mode", "format"])
        unknown = [n for n in names if n not in REWARD_NAMES]
        if unknown:
            raise DeliberateError(f"unknown reward {unknown[0]!r} (use {', '.join(REWARD_NAMES)})")
        if "judge" in names and not self.judge:
            raise DeliberateError("the judge reward needs --judge MODEL")
        self.reward_funcs = list(names)
        if self.reward_weights is None:
            self.reward_weights = [DEFAULT_REWARD_WEIGHTS[n] for n in names]
        if len(self.reward_weights) != len(names):
            raise DeliberateError(f"{len(self.reward_weights)} reward_weights for {len(names)} rewards {names}")
        if self.judge_k < 1:
            raise DeliberateError("judge_k must be >= 1")
        if self.judge_temperature < 0:
            raise DeliberateError(f"judge_temperature must be >= 0, got {self.judge_temperature}")
        if not 0.0 <= self.benign_ratio < 1.0:
            raise DeliberateError(f"benign_ratio must be in [0, 1), got {self.benign_ratio}")
        if self.judge and self.judge_k > 1 and self.judge_temperature == 0:
            log.warning("judge_k %d at judge_temperature 0: the judgments repeat the first", self.judge_k)
        _check_launch()
        _cpu_when_no_accelerator(self)
        super().__post_init__()


def _check_launch() -> None:
    """Warn when ``accelerate launch --cpu --num_processes N`` (N > 1) started one process.

    accelerate runs ``--cpu`` jobs through its single-process launcher unless they go through
    ``mpirun`` (``--mpirun_hostfile``): the job then trains alone, on 1/N of the intended batch.
    Its mark: accelerate's CPU flag and a rendezvous address, but no world size from torchrun or MPI.
    """
    env = os.environ
    if env.get("ACCELERATE_USE_CPU", "").lower() not in ("1", "true") or "MASTER_ADDR" not in env:
        return
    if any(name in env for name in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")):
        return
    log.warning(
        "`accelerate launch --cpu` started a single process (accelerate starts several CPU processes "
        "only through mpirun). For N processes on CPU use `accelerate launch --config_file "
        "configs/accelerate/cpu_2proc.yaml --num_processes N` (or `--multi_gpu --num_processes N`): "
        "with no GPU present deliberate runs them on CPU with gloo."
    )


def _cpu_when_no_accelerator(config: Any) -> None:
    """Without any accelerator, train on CPU (``use_cpu``) instead of failing TRL's bf16 check.

    ``use_cpu`` also makes ``accelerate launch`` processes join a gloo process group, which is how
    the 2-process CPU recipe runs.
    """
    import torch

    accelerator = getattr(torch, "accelerator", None)  # torch >= 2.6
    if accelerator is not None:
        none_found = accelerator.current_accelerator() is None
    else:
        none_found = not torch.cuda.is_available()
    if none_found:
        config.use_cpu = True
        _float32_without_cpu_bf16(config)


def _float32_without_cpu_bf16(config: Any) -> None:
    """TRL turns bf16 on by default; on a CPU without native bf16 (no AVX512-BF16 / AMX) autocast
    to bf16 runs ~25x slower than float32 (a Gemma 270M LoRA step: minutes instead of seconds).
    Left unset, train in float32 and say so; asked for explicitly, keep it and warn."""
    import torch

    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return
    if config.bf16 is None:
        config.bf16 = False
        log.info("training on a CPU without native bf16: float32 (TRL's bf16 default is off; "
                 "pass --bf16 true to force it)")
    elif config.bf16:
        log.warning("--bf16 on a CPU without native bf16 support: expect training to be very slow")


def parse_config(config_type: type[C], args: Sequence[str]) -> C:
    """Parse ``--config FILE`` and flags (flags win) into ``config_type``; user errors -> DeliberateError."""
    parser = TrlParser([config_type], prog=f"deliberate {'sft' if config_type is SFTTrainConfig else 'rl'}")

    def error(message: str) -> None:  # argparse would print its usage block and exit
        raise DeliberateError(message)

    parser.error = error  # type: ignore[method-assign]
    try:
        (config,) = parser.parse_args_and_config(list(args))
    except (ValueError, FileNotFoundError, TypeError) as exc:
        raise DeliberateError(str(exc)) from None
    return config  # type: ignore[no-any-return]


def config_from_dict(config_type: type[C], values: dict[str, Any], *, where: str = "config") -> C:
    """``config_type`` built straight from a mapping (a pipeline's ``stages.sft``, a YAML file).

    Unknown keys are errors naming ``where.<key>``; no flag strings are made and parsed again.
    """
    known = {f.name for f in dataclasses.fields(config_type)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise DeliberateError(f"{where}.{unknown[0]}: unknown training setting")
    try:
        return config_type(**values)
    except (ValueError, TypeError) as exc:
        raise DeliberateError(f"{where}: {exc}") from None


def load_config(config_type: type[C], path: str, **overrides: Any) -> C:
    """A config from a YAML file, with keyword overrides (the Python side of ``--config``)."""
    from deliberate.spec.load import read_yaml_file

    values = read_yaml_file(path)
    if not isinstance(values, dict):
        raise DeliberateError(f"{path}: not a YAML mapping of settings")
    return config_from_dict(config_type, {**values, **overrides}, where=str(path))
