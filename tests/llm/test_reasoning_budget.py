"""--reasoning-budget: local models stop reasoning at N tokens and answer; servers need their field."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from deliberate.errors import DeliberateError
from deliberate.llm import BackendOptions, ModelRequest, SamplingConfig, generate
from deliberate.llm.types import ChatMessage


class ScriptedModel:
    """A fake causal LM, autoregressive over the text so far: it opens <think>, writes 'x' until
    it has written as many as the prompt's number (then closes the block), and answers "42".
    So whatever the backend forces into the sequence, the continuation follows from it."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        self.device = "cpu"
        self.generation_config = SimpleNamespace(eos_token_id=tokenizer.eos_token_id)
        self.calls = []

    def _ids(self, text):
        return self.tok(text, add_special_tokens=False)["input_ids"]

    def _next(self, text):
        prompt, _, written = text.rpartition("<|im_start|>assistant\n")
        length = int(prompt.split("think for ")[1].split()[0])
        if "</think>" in written:
            after = written.rsplit("</think>", 1)[1].strip()
            return {"": "4", "4": "2"}.get(after, "<|im_end|>")
        if not written:
            return "<think>"
        return "</think>" if written.count("x") >= length else "x"

    def generate(self, input_ids, attention_mask, max_new_tokens, stop_strings=None, **_):
        import torch

        self.calls.append(max_new_tokens)
        rows = []
        for ids, mask in zip(input_ids.tolist(), attention_mask.tolist()):
            ids = [t for t, m in zip(ids, mask) if m]
            new = []
            for _ in range(max_new_tokens):
                token = self._ids(self._next(self.tok.decode(ids + new)))[0]
                new.append(token)
                if token == self.tok.eos_token_id or any(s in self.tok.decode(new) for s in stop_strings or []):
                    break
            rows.append(new)
        width = max(map(len, rows))
        tail = torch.tensor([r + [self.tok.pad_token_id] * (width - len(r)) for r in rows], dtype=torch.long)
        return torch.cat([input_ids, tail], dim=1)


@pytest.fixture
def scripted(tiny_model_path):
    from transformers import AutoTokenizer

    from deliberate.llm.backends.hf import HFBackend

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    tok.padding_side = "left"
    model = ScriptedModel(tok)
    return HFBackend("scripted", model=model, tokenizer=tok), model


def ask(backend, lengths, budget, max_tokens=40):
    requests = [ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"think for {n} x")],
                             config=SamplingConfig(temperature=0.0, max_tokens=max_tokens, reasoning_budget=budget))
                for i, n in enumerate(lengths)]
    out = generate(requests, backend, BackendOptions(use_cache=False, progress=False))
    assert all(r.ok for r in out.results), [r.error for r in out.results]
    return [r.response for r in out.results]


def test_reasoning_is_cut_at_the_budget_and_the_model_answers(scripted):
    backend, model = scripted
    long, short = ask(backend, [100, 2], budget=5)  # one batch: each row on its own terms
    assert long.reasoning == "xxxx" and long.content == "42" and long.finish_reason == "stop"
    assert short.reasoning == "xx" and short.content == "42"  # closed in time: nothing forced
    # N tokens, then the rest of max_tokens: 40 - 4 for the row that closed after 4 tokens
    assert model.calls == [5, 36]
    [unbounded] = ask(backend, [12], budget=None)
    assert unbounded.reasoning == "x" * 12 and model.calls[-1] == 40  # one pass without a budget


def test_budget_zero_is_an_empty_reasoning_block(scripted):
    backend, model = scripted
    [reply] = ask(backend, [100], budget=0)
    assert not reply.reasoning and reply.content == "42" and model.calls == [40]


def test_max_tokens_still_bounds_the_reply(scripted):
    backend, _ = scripted
    [reply] = ask(backend, [100], budget=10, max_tokens=3)
    assert reply.finish_reason == "length" and reply.content == "" and reply.usage.output_tokens == 3


def test_a_budget_is_part_of_the_cache_key_and_no_budget_keeps_old_keys():
    import hashlib

    request = ModelRequest(id="a", messages=[ChatMessage(role="user", content="hi")])
    old_payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                   "config": {k: v for k, v in request.config.model_dump().items() if k != "reasoning_budget"},
                   "sample_index": 0}
    old = hashlib.sha256(json.dumps(old_payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert request.cache_key("m") == old
    capped = request.model_copy(update={"config": SamplingConfig(reasoning_budget=64)})
    assert capped.cache_key("m") != old


def test_servers_need_their_field_named(monkeypatch):
    from support.loopback import LoopbackServer

    from deliberate.llm.refs import reasoning_budget_support

    with pytest.raises(DeliberateError, match="--reasoning-budget-field"):
        reasoning_budget_support("openai/m")
    with pytest.raises(DeliberateError, match="vllm/"):
        reasoning_budget_support("vllm/some/model")
    assert "client-side" in reasoning_budget_support("hf/some/model")
    request = ModelRequest(id="a", messages=[ChatMessage(role="user", content="hi")],
                           config=SamplingConfig(reasoning_budget=64, max_tokens=8))
    with LoopbackServer() as server:
        plain = BackendOptions(base_url=server.base_url, use_cache=False, progress=False, max_attempts=1)
        refused = generate([request], "openai/m", plain)
        named = generate([request], "openai/m", plain.model_copy(update={"reasoning_budget_field": "thinking_token_budget"}))
    assert not refused.results[0].ok and "--reasoning-budget-field" in refused.results[0].error
    assert named.results[0].ok and server.requests[-1]["thinking_token_budget"] == 64
    assert server.received == 1  # the refused request never left


def test_what_is_forced_after_the_first_pass(tiny_model_path):
    from transformers import AutoTokenizer

    from deliberate.llm.backends.budget import _forced

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    close = tok("\n</think>\n\n", add_special_tokens=False)["input_ids"]
    assert _forced("<think>xxxx", "...assistant\n", 5, tok, []) == close  # still open: closed for it
    assert _forced("xxxx", "...assistant\n<think>\n", 5, tok, []) == close  # the template opened it
    assert _forced("<think>xx</think>4", "...", 5, tok, []) == []  # closed in time
    assert _forced("Sure, 42", "...", 5, tok, []) == []  # no reasoning at all: not cut
    assert _forced("", "...<think>\n\n</think>\n\n", 0, tok, []) == []  # the template closed it
    assert _forced("", "...assistant\n", 0, tok, []) == tok("<think>\n\n</think>\n\n", add_special_tokens=False)["input_ids"]
    assert _forced("<think>x STOP", "...", 5, tok, ["STOP"]) is None  # a stop string ended the reply
