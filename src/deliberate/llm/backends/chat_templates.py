"""Chat templates for models that ship without one (base models such as Gemma 3 270M GGUF).

Both render an assistant's ``reasoning_content`` as a ``<think>`` block before its answer, so the
chain of thought survives templating, and mark assistant turns with ``{% generation %}`` so TRL
can put the loss on them only.

Gemma's template ends an assistant turn with the tokenizer's eos, not ``<end_of_turn>``: a base
model never learned the control tokens, and a student fine-tuned from it must learn to stop.
Measured on Gemma 3 270M base after a finished sentence: P(``<end_of_turn>``) ~ 1e-15, P(eos)
~ 3e-3; after 16 LoRA steps on rows ending in ``<end_of_turn>`` it was still 1e-4, and the
student ran on to its token limit. Both stop generation (``stop_token_ids``).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

END_OF_TURN = ("<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>")


def fallback_chat_template(tokenizer: Any) -> str:
    """Gemma's turn format when the vocabulary has its tokens, else ChatML."""
    name = "gemma" if "<start_of_turn>" in tokenizer.get_vocab() else "chatml"
    return (resources.files("deliberate") / "templates" / "chat" / f"{name}.jinja").read_text(encoding="utf-8").strip()


def ensure_chat_template(tokenizer: Any) -> bool:
    """Give the tokenizer a template if it has none; returns True when one was added."""
    if getattr(tokenizer, "chat_template", None):
        return False
    tokenizer.chat_template = fallback_chat_template(tokenizer)
    return True


def stop_token_ids(tokenizer: Any, model: Any) -> list[int]:
    """The model's eos ids plus any end-of-turn token in the vocabulary."""
    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    vocab = tokenizer.get_vocab()
    ids += [vocab[t] for t in END_OF_TURN if t in vocab]
    return list(dict.fromkeys(ids))
