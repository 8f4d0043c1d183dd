"""``stream_label`` / ``stream_generate``: the list-based stage run chunk by chunk, one backend
for every chunk (a local model loads once), the same records as one call over the whole list."""

from __future__ import annotations

import json

from support.scripted import ScriptedBackend

import deliberate.llm
from deliberate.generate.cot import GenerateConfig, run_generate, stream_generate
from deliberate.generate.label import LabelConfig, run_label, stream_label
from deliberate.llm import BackendOptions
from deliberate.records.jsonl import dump_record
from deliberate.records.prompt import PromptRecord
from deliberate.spec import load_spec

SPEC = load_spec("default")
OPTIONS = BackendOptions(use_cache=False, progress=False)


def _prompts(n: int, category: list[str] | None = None) -> list[PromptRecord]:
    return [PromptRecord(id=f"p{i}", prompt=f"How do I bake loaf {i}?", category=category)
            for i in range(n)]


def test_one_backend_serves_every_chunk(tmp_path, monkeypatch):
    made = []

    def get_backend(ref, options=None, **kwargs):
        made.append(ref)
        return ScriptedBackend(lambda r: "<think>Benign; style.compliance.</think>Flour.", ref=ref)

    monkeypatch.setattr(deliberate.llm, "get_backend", get_backend)
    config = GenerateConfig(samples=2)
    prompts = _prompts(11, ["none"])
    totals = stream_generate(config, iter(prompts), tmp_path / "g.jsonl", spec=SPEC,
                             teacher="hf/local-model", options=OPTIONS, chunk_size=3)
    assert made == ["hf/local-model"]  # four chunks, one model load
    assert (totals.inputs, totals.records, totals.failures) == (11, 22, 0)
    whole = run_generate(config, prompts, spec=SPEC, teacher=get_backend("hf/local-model"),
                         options=OPTIONS)
    expected = "".join(dump_record(r) + "\n" for r in whole.records)
    assert (tmp_path / "g.jsonl").read_text() == expected
    assert totals.tallies["citation_invalid"] == sum(not r.checks.citation.valid for r in whole.records)


def test_label_makes_no_backend_while_no_prompt_needs_a_label(tmp_path, monkeypatch):
    def no_backend(*args, **kwargs):
        raise AssertionError("no labeler call was needed")

    monkeypatch.setattr(deliberate.llm, "get_backend", no_backend)
    prompts = _prompts(5, ["none"])
    totals = stream_label(LabelConfig(), iter(prompts), tmp_path / "l.jsonl", spec=SPEC,
                          labeler="openai/none", options=OPTIONS, chunk_size=2)
    assert totals.records == 5
    ids = [json.loads(line)["id"] for line in (tmp_path / "l.jsonl").read_text().splitlines()]
    assert ids == [p.id for p in prompts]


def test_label_streamed_equals_label_at_once(tmp_path):
    backend = ScriptedBackend(lambda r: '{"categories": ["none"]}', ref="openai/lab")
    prompts = _prompts(7)
    stream_label(LabelConfig(second_opinion=False), iter(prompts), tmp_path / "l.jsonl", spec=SPEC,
                 labeler=backend, options=OPTIONS, chunk_size=3)
    whole = run_label(LabelConfig(second_opinion=False), prompts, spec=SPEC, labeler=backend,
                      options=OPTIONS)
    assert (tmp_path / "l.jsonl").read_text() == "".join(dump_record(r) + "\n" for r in whole.records)
