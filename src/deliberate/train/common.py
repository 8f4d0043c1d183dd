"""Pieces both recipes share: the model source, LoRA, resuming, saving (and merging), the manifest."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from deliberate.train.data import ModelSource, resolve_model

if TYPE_CHECKING:
    from deliberate.records.provenance import Provenance

log = logging.getLogger(__name__)

GGUF_BASE = "gguf_base"  # where a GGUF model is dequantized to, inside output_dir


class TrainResult(NamedTuple):
    """What a recipe leaves behind."""

    output_dir: Path
    global_step: int
    resumed_from: str | None
    log_history: list[dict[str, Any]]
    trainer: Any


def prepare_model(config: Any) -> ModelSource:
    """The model to train from: ``config.model`` resolved to a path or hub id.

    A GGUF file is dequantized once into ``output_dir/gguf_base`` (model + tokenizer, by the local
    main process; the others wait for it) and training starts from that directory, so that TRL,
    the GRPO reference model, vLLM and LoRA merging all load a plain model directory.
    """
    source = resolve_model(config.model or "")
    if not source.gguf_file:
        return source
    from accelerate import PartialState

    out = Path(config.output_dir) / GGUF_BASE
    with PartialState().local_main_process_first():
        if not (out / "config.json").is_file():
            dequantize_gguf(source, out, config.model_init_kwargs or {})
    return ModelSource(str(out), None)


def dequantize_gguf(source: ModelSource, out: Path, init_kwargs: dict[str, Any]) -> None:
    """GGUF model + tokenizer -> a transformers model directory (in ``init_kwargs``' dtype, float32 by
    default as TRL loads), written to a temporary directory first and renamed into place."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = init_kwargs.get("dtype", "float32")
    dtype = getattr(torch, dtype) if isinstance(dtype, str) and dtype != "auto" else dtype
    log.info("dequantizing %s/%s into %s", source.path, source.gguf_file, out)
    kwargs: dict[str, Any] = {}
    try:  # transformers >= 5.2x can keep GGUF weights quantized; older versions always dequantize
        from transformers import GgufConfig

        kwargs["quantization_config"] = GgufConfig(gguf_file=source.gguf_file, dequantize=True)
    except ImportError:
        pass
    model = AutoModelForCausalLM.from_pretrained(source.path, gguf_file=source.gguf_file, dtype=dtype, **kwargs)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # dense weights now: drop the marker that forbids saving them
        quantizer.remove_quantization_config(model)
    tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
    staging = out.with_name(f"{out.name}.tmp-{socket.gethostname()}-{os.getpid()}")
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    try:
        staging.rename(out)
    except OSError:  # another node sharing output_dir got there first
        if not (out / "config.json").is_file():
            raise
        shutil.rmtree(staging, ignore_errors=True)


def lora_config(config: Any) -> Any:
    """A PEFT ``LoraConfig`` from the config's lora_* fields, or None without ``use_lora``."""
    if not config.use_lora:
        return None
    from peft import LoraConfig

    targets = config.lora_target_modules
    return LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules="all-linear" if list(targets) == ["all-linear"] else list(targets),
        task_type="CAUSAL_LM",
    )


def resume_checkpoint(config: Any) -> str | None:
    """``resume_from_checkpoint`` if set; with ``resume``, the last checkpoint in output_dir."""
    if config.resume_from_checkpoint:
        return str(config.resume_from_checkpoint)
    if not config.resume:
        return None
    from transformers.trainer_utils import get_last_checkpoint

    output = Path(config.output_dir)
    last = get_last_checkpoint(str(output)) if output.is_dir() else None
    if last is None:
        log.warning("--resume: no checkpoint in %s, starting from step 0", output)
    return last


def train_and_save(trainer: Any, config: Any, manifest: Provenance | None = None) -> TrainResult:
    """Train (resuming if asked), save the final model + tokenizer, end the run, finish the manifest."""
    resumed_from = resume_checkpoint(config)
    trainer.train(resume_from_checkpoint=resumed_from)
    save_final(trainer, config)
    end_run(trainer)
    finish_manifest(manifest, config)
    return TrainResult(Path(config.output_dir), trainer.state.global_step, resumed_from,
                       list(trainer.state.log_history), trainer)


def end_run(trainer: Any) -> None:
    """Finish trackers and leave the process group (transformers >= 5.18), wrappers first.

    A DDP wrapper that outlives its process group hangs in its destructor (seen with gloo on
    2 CPU processes), so the prepared objects are released before the group is destroyed.
    """
    if not hasattr(trainer, "end"):
        return
    trainer.accelerator.free_memory()
    trainer.model_wrapped = trainer.model
    trainer.end()


def save_final(trainer: Any, config: Any) -> None:
    """Model (or adapter) + tokenizer with its chat template to output_dir, loadable as ``hf/DIR``.

    With ``merge_lora`` the adapter goes to ``output_dir/adapter`` and the main process merges it
    into a freshly loaded copy of the base model the adapter records: this works whatever sharding
    (ZeRO-3, FSDP) training used.
    """
    if not config.merge_lora:
        trainer.save_model(config.output_dir)
        return
    adapter_dir = Path(config.output_dir) / "adapter"
    trainer.save_model(str(adapter_dir))
    trainer.accelerator.wait_for_everyone()
    if trainer.accelerator.is_main_process:
        merge_adapter(adapter_dir, Path(config.output_dir), config.model_init_kwargs or {})
    trainer.accelerator.wait_for_everyone()


def merge_adapter(adapter_dir: Path, out: Path, init_kwargs: dict[str, Any]) -> None:
    """Base model + LoRA adapter -> one plain model directory (with the adapter's tokenizer)."""
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    init_kwargs = {k: v for k, v in init_kwargs.items() if k not in ("device_map", "quantization_config")}
    base_path = PeftConfig.from_pretrained(str(adapter_dir)).base_model_name_or_path
    base = AutoModelForCausalLM.from_pretrained(base_path, **init_kwargs)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out)


def start_manifest(config: Any, kind: str, *, spec: Any = None, **details: Any) -> Provenance | None:
    """``output_dir/manifest.json`` (a :class:`Provenance`, status running), main process only.

    Records the resolved config, the base model pinned to its weights, the spec (RL) and
    ``details`` (chat plan, rewards ...); :func:`train_and_save` finishes it.
    """
    if getattr(config, "process_index", 0) != 0:
        return None
    from deliberate.llm.weights import weights_fingerprint
    from deliberate.records.provenance import ModelInfo, Provenance, SpecInfo

    source = resolve_model(config.model or "")
    weights = f"{source.path}/{source.gguf_file}" if source.gguf_file else source.path
    manifest = Provenance.start(
        kind, json.loads(json.dumps(config.to_dict(), default=str)),  # type: ignore[arg-type]
        spec=SpecInfo.of(spec, source=config.spec) if spec is not None else None,
        models={"base": ModelInfo(ref=config.model, fingerprint=weights_fingerprint(weights))},
        details={"dataset": config.dataset, **details})
    manifest.save(config.output_dir)
    return manifest


def finish_manifest(manifest: Provenance | None, config: Any) -> None:
    """Mark the run done and pin the trained weights (adapter or full model) by fingerprint."""
    if manifest is None:
        return
    from deliberate.llm.weights import weights_fingerprint
    from deliberate.records.provenance import ModelInfo

    out = str(config.output_dir)
    manifest.models["trained"] = ModelInfo(ref=f"hf/{out}", fingerprint=weights_fingerprint(out))
    manifest.finish().save(out)
