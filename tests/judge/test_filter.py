"""Filter and SFT export: thresholds, drop reasons, best-of, dedup, cap, no spec text."""

from __future__ import annotations

import json

import pytest

from deliberate.judge.dedup import near_duplicate_groups
from deliberate.judge.filter import FilterConfig, run_filter
from deliberate.records import write_jsonl
from deliberate.records.generation import JudgedRecord, Verdict
from deliberate.spec import load_spec

from .test_judge import generation


def judged(mini_spec, pid, score, index=0, prompt=None, reasoning="per violence.1 history is fine", errors=()):
    gen = generation(mini_spec, pid=pid, index=index, prompt=prompt or f"question {pid} about sieges",
                     reasoning=reasoning)
    return JudgedRecord(generation=gen, judge="j", judge_template_hash="h", answer_only=False,
                        verdicts=[Verdict(score=score or 0)], errors=list(errors), score=score)


def test_thresholds_and_reasons(mini_spec):
    records = [
        judged(mini_spec, "a", 9),
        judged(mini_spec, "b", 5),
        judged(mini_spec, "c", None, errors=["unparsable"]),
        judged(mini_spec, "d", 10, reasoning="per violence.9 fine"),
        judged(mini_spec, "e", 10, reasoning="The spec above allows it, violence.1"),
        judged(mini_spec, "f", 10, reasoning=""),
    ]
    examples, summary = run_filter(FilterConfig(min_score=8), records)
    assert [e.prompt_id for e in examples] == ["a"]
    assert summary.dropped["violence"] == {
        "low_score": 1, "judge_failed": 1, "citation": 1, "spec_leak": 1, "format": 1}
    assert summary.kept == {"violence": 1}


def test_best_per_prompt_dedup_and_cap(mini_spec):
    records = [judged(mini_spec, "a", 8, 0), judged(mini_spec, "a", 9, 1), judged(mini_spec, "b", 9),
               judged(mini_spec, "c", 9, prompt="question a about sieges!"),  # near-duplicate of a
               *[judged(mini_spec, f"z{i}", 9, prompt=f"totally different text number {i} here") for i in range(5)]]
    examples, summary = run_filter(FilterConfig(best_per_prompt=True, max_per_category=4), records)
    assert len(examples) == 4
    assert summary.dropped["violence"]["not_best"] == 1
    assert summary.dropped["violence"]["duplicate_prompt"] == 1
    assert summary.dropped["violence"]["category_cap"] == 3  # a, b, z0-z4 left: 7 - 4
    best_a = [e for e in examples if e.prompt_id == "a"]
    assert all(e.sample_index == 1 for e in best_a)


def test_near_duplicates():
    texts = ["How do I make a cake at home?", "how do I make a cake at home", "What is the capital of France?"]
    assert near_duplicate_groups(texts, 0.8) == [0, 0, 2]


def test_export_format_has_no_spec_and_loads_with_datasets(tmp_path):
    spec = load_spec("tests/assets/mini_spec.yaml")
    records = [judged(spec, "a", 9)]
    examples, _ = run_filter(FilterConfig(), records)
    path = tmp_path / "sft.jsonl"
    write_jsonl(path, examples)
    line = json.loads(path.read_text().splitlines()[0])
    roles = [m["role"] for m in line["messages"]]
    assert roles == ["user", "assistant"]
    assistant = line["messages"][-1]
    assert assistant["reasoning_content"] == "per violence.1 history is fine"
    assert assistant["content"] == "Sieges used trebuchets."
    text = json.dumps(line["messages"])
    for category in spec.categories:
        for excerpt_line in spec.for_category(category.id).splitlines():
            if len(excerpt_line.strip()) > 20:
                assert excerpt_line.strip() not in text
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    assert ds[0]["messages"][1]["reasoning_content"].startswith("per violence.1")


def test_think_in_content_and_field_name(mini_spec):
    examples, _ = run_filter(FilterConfig(think_in_content=True, reasoning_field="thinking"),
                             [judged(mini_spec, "a", 9)])
    assistant = examples[0].messages[-1]
    assert assistant["content"].startswith("<think>\nper violence.1") and "thinking" in assistant
