"""Local ``transformers`` models: chat template, batched generation, CPU or GPU.

``hf/<path-or-hub-id>`` loads a model directory or hub id; a ref ending in ``.gguf``
(``hf/<dir-or-hub-id>/<file>.gguf``) loads that GGUF file with ``gguf_file=``. Generation runs
in a worker thread so the event loop keeps the progress bar alive.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from deliberate.llm.backends.chat_templates import ensure_chat_template, stop_token_ids
from deliberate.llm.reasoning import response_from_text
from deliberate.llm.types import ModelRequest, ModelResponse, Usage
from deliberate.llm.weights import local_weights_ref


def split_gguf(name: str) -> tuple[str, str | None]:
    """``dir/model.gguf`` -> (``dir``, ``model.gguf``); other names -> (name, None)."""
    if name.endswith(".gguf"):
        path = Path(name)
        return str(path.parent), path.name
    return name, None


class HFBackend:
    """Batched local generation; concurrency 1 (one batch at a time on one device)."""

    default_concurrency = 1
    remote = False

    def __init__(
        self,
        name: str,
        *,
        batch_size: int = 8,
        device: str | None = None,
        dtype: str = "auto",
        model: Any = None,
        tokenizer: Any = None,
    ) -> None:
        self.name = name
        self.ref = f"hf/{name}"
        self.cache_ref = local_weights_ref(self.ref, name)
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self._model, self._tokenizer = model, tokenizer
        self._lock = asyncio.Lock()

    def load(self) -> tuple[Any, Any]:
        """Load model and tokenizer once (lazily: importing this module costs nothing)."""
        if self._model is None:
            self._model, self._tokenizer = load_hf_model(self.name, device=self.device, dtype=self.dtype)
        return self._model, self._tokenizer

    async def generate(self, batch: list[ModelRequest]) -> list[ModelResponse]:
        async with self._lock:
            return await asyncio.to_thread(self._generate_sync, batch)

    def _generate_sync(self, batch: list[ModelRequest]) -> list[ModelResponse]:
        import torch

        model, tokenizer = self.load()
        cfg = batch[0].config  # the runner batches requests with equal configs only
        prompts = [chat_prompt(tokenizer, r.messages) for r in batch]
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        inputs = inputs.to(model.device)
        if cfg.seed is not None:
            torch.manual_seed(cfg.seed + batch[0].sample_index)
        if cfg.reasoning_budget is not None:
            return self._generate_with_budget(model, tokenizer, inputs, prompts, cfg)
        output = _run_generate(model, tokenizer, cfg)(inputs["input_ids"], inputs["attention_mask"],
                                                      cfg.max_tokens, cfg.stop)
        prompt_len = inputs["input_ids"].shape[1]
        results = []
        for row, mask in zip(output, inputs["attention_mask"]):
            new = row[prompt_len:]
            text = decode_keeping_think(tokenizer, new)
            n_out = int((new != tokenizer.pad_token_id).sum())
            results.append(self._response(text, int(mask.sum()), n_out, n_out >= cfg.max_tokens))
        return results

    def _generate_with_budget(self, model: Any, tokenizer: Any, inputs: Any, prompts: list[str],
                              cfg: Any) -> list[ModelResponse]:
        """Reasoning capped at ``cfg.reasoning_budget`` tokens (:mod:`.budget`)."""
        from deliberate.llm.backends.budget import generate_with_budget

        rows = generate_with_budget(_run_generate(model, tokenizer, cfg), tokenizer, inputs, prompts,
                                    cfg.reasoning_budget, cfg.max_tokens, cfg.stop,
                                    stop_token_ids(tokenizer, model))
        return [self._response(decode_keeping_think(tokenizer, row.tokens), int(mask.sum()),
                               len(row.tokens) - row.forced, not row.ended)
                for row, mask in zip(rows, inputs["attention_mask"])]

    def _response(self, text: str, n_in: int, n_out: int, cut: bool) -> ModelResponse:
        return response_from_text(text, finish_reason="length" if cut else "stop",
                                  usage=Usage(input_tokens=n_in, output_tokens=n_out), model=self.ref)

    async def cache_identity(self) -> str:
        return self.cache_ref

    async def aclose(self) -> None:
        return None


def _run_generate(model: Any, tokenizer: Any, cfg: Any) -> Any:
    """``(input_ids, attention_mask, max_new_tokens, stop) -> ids``: ``model.generate`` with the
    request's sampling settings."""
    import torch

    sampling = cfg.temperature > 0

    def run(input_ids: Any, attention_mask: Any, max_new_tokens: int, stop: Any) -> Any:
        with torch.inference_mode():
            return model.generate(
                input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                max_new_tokens=max_new_tokens, do_sample=sampling,
                temperature=cfg.temperature if sampling else None,
                top_p=cfg.top_p if sampling else None, top_k=None,
                pad_token_id=tokenizer.pad_token_id, eos_token_id=stop_token_ids(tokenizer, model),
                stop_strings=list(stop) if stop else None, tokenizer=tokenizer if stop else None,
            )
    return run


def decode_keeping_think(tokenizer: Any, token_ids: Any) -> str:
    """Decode new tokens, dropping special tokens but not ``<think>``/``</think>``.

    Some tokenizers register the think tags as special tokens, so ``skip_special_tokens=True``
    would erase the boundary between reasoning and answer.
    """
    text = tokenizer.decode(token_ids, skip_special_tokens=False)
    for token in sorted(tokenizer.all_special_tokens, key=len, reverse=True):
        if token and "think" not in token:
            text = text.replace(token, "")
    return text


def chat_prompt(tokenizer: Any, messages: list[Any]) -> str:
    """Render messages with the tokenizer's chat template, ready for the assistant's turn."""
    dicts = [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else m for m in messages]
    return tokenizer.apply_chat_template(dicts, tokenize=False, add_generation_prompt=True)


def load_hf_model(name: str, *, device: str | None = None, dtype: str = "auto") -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer for generation (left padding, pad token set)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path, gguf_file = split_gguf(name)
    kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    tokenizer.padding_side = "left"
    if ensure_chat_template(tokenizer):
        import logging

        logging.getLogger(__name__).warning("%s has no chat template; using a default one", name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch_dtype = getattr(torch, dtype) if dtype != "auto" else "auto"
    if device is None and torch.cuda.is_available() and _has_accelerate():
        kwargs["device_map"] = "auto"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, **kwargs)
    if device is not None:
        model = model.to(device)
    model.eval()
    return model, tokenizer


def _has_accelerate() -> bool:
    import importlib.util

    return importlib.util.find_spec("accelerate") is not None
