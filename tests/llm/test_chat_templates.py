"""Fallback chat templates for base models: which turn format, how an answer ends, what stops."""

from __future__ import annotations

from types import SimpleNamespace

from deliberate.llm.backends.chat_templates import (
    ensure_chat_template,
    fallback_chat_template,
    stop_token_ids,
)


def _tokenizer(tiny_model_path, extra: list[str]):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_path)
    tokenizer.add_special_tokens({"additional_special_tokens": extra})
    tokenizer.chat_template = None
    return tokenizer


CHAT = [{"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello", "reasoning_content": "Per violence.1 fine."}]


def test_gemma_vocabulary_gets_gemma_turns_and_answers_end_with_eos(tiny_model_path):
    tokenizer = _tokenizer(tiny_model_path, ["<start_of_turn>", "<end_of_turn>"])
    assert ensure_chat_template(tokenizer) and not ensure_chat_template(tokenizer)  # added once
    text = tokenizer.apply_chat_template(CHAT, tokenize=False)
    assert "<start_of_turn>user\nhi<end_of_turn>\n" in text
    # a base model never learned <end_of_turn>; its eos it knows, so the student learns to stop
    assert text.endswith("<think>\nPer violence.1 fine.\n</think>\n\nhello" + tokenizer.eos_token + "\n")
    assert "{% generation %}" in fallback_chat_template(tokenizer)


def test_other_vocabularies_get_chatml(tiny_model_path):
    tokenizer = _tokenizer(tiny_model_path, [])
    ensure_chat_template(tokenizer)
    text = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=False)
    assert text.startswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>")


def test_generation_stops_at_eos_and_at_any_end_of_turn_token(tiny_model_path):
    tokenizer = _tokenizer(tiny_model_path, ["<end_of_turn>"])
    model = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=[7, 7]))
    vocab = tokenizer.get_vocab()
    ids = stop_token_ids(tokenizer, model)
    assert ids == list(dict.fromkeys([7, tokenizer.eos_token_id, vocab["<end_of_turn>"], vocab["<|im_end|>"]]))
