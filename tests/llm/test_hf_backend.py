"""The local transformers backend on a tiny model built in the test."""

from __future__ import annotations

from deliberate.llm import BackendOptions, ModelRequest, SamplingConfig, generate
from deliberate.llm.backends.hf import decode_keeping_think, split_gguf
from deliberate.llm.types import ChatMessage


def test_batched_generation_and_cache(tiny_model_path, tmp_path):
    requests = [
        ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"hello {i}")],
                     config=SamplingConfig(max_tokens=6, temperature=0.0))
        for i in range(5)
    ]
    options = BackendOptions(batch_size=2, cache=tmp_path / "c.sqlite", progress=False)
    out = generate(requests, f"hf/{tiny_model_path}", options)
    assert [r.id for r in out.results] == ["r0", "r1", "r2", "r3", "r4"]
    assert all(r.ok for r in out.results), [r.error for r in out.results]
    usage = out.usage.models[f"hf/{tiny_model_path}"]
    assert usage.sent == 5 and 0 < usage.output_tokens <= 30 and usage.input_tokens > 0
    again = generate(requests, f"hf/{tiny_model_path}", options)
    assert all(r.cached for r in again.results)


def test_think_tags_survive_decoding(tiny_model_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_path)
    ids = tok("<think>plan</think>answer<|im_end|><pad>", add_special_tokens=False)["input_ids"]
    assert decode_keeping_think(tok, ids) == "<think>plan</think>answer"


def test_gguf_ref_split():
    assert split_gguf("models/gemma/model.gguf") == ("models/gemma", "model.gguf")
    assert split_gguf("Qwen/Qwen3-0.6B") == ("Qwen/Qwen3-0.6B", None)


def test_retrained_weights_in_the_same_folder_miss_the_cache(tiny_model_path, tmp_path):
    import shutil

    from deliberate.llm.backends.hf import HFBackend

    folder = tmp_path / "sft"
    shutil.copytree(tiny_model_path, folder)
    before = HFBackend(str(folder)).cache_ref
    assert before.startswith(f"hf/{folder}@") and HFBackend(str(folder)).cache_ref == before
    weights = next(folder.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes() + b"\0")  # "retrained": same name, new content
    assert HFBackend(str(folder)).cache_ref != before
    assert HFBackend("some-org/hub-model").cache_ref == "hf/some-org/hub-model"
    import asyncio

    backend = HFBackend(str(folder))
    assert asyncio.run(backend.cache_identity()) == backend.cache_ref  # what keys are made of
    assert backend.remote is False  # local generation gets no deadline
