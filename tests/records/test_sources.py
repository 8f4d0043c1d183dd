"""Prompt sources: JSONL, CSV, Parquet, column mapping, category checks."""

from __future__ import annotations

import json

import pytest

from deliberate.errors import InputFileError
from deliberate.records import ColumnMap, load_prompts


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_minimal_jsonl_line(tmp_path, mini_spec):
    path = _jsonl(tmp_path / "p.jsonl", [{"id": "p1", "prompt": "text", "category": "violence"}])
    [rec] = load_prompts(path, categories=mini_spec.category_ids)
    assert (rec.id, rec.prompt, rec.category) == ("p1", "text", ["violence"])


def test_unknown_category_names_line(tmp_path, mini_spec):
    rows = [{"id": "a", "prompt": "x", "category": "none"}, {"id": "b", "prompt": "y", "category": "erotic"}]
    path = _jsonl(tmp_path / "p.jsonl", rows)
    with pytest.raises(InputFileError) as info:
        load_prompts(path, categories=mini_spec.category_ids)
    assert info.value.line == 2 and "unknown category 'erotic'" in str(info.value)


def test_missing_prompt_field(tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"id": "a", "text": "x"}])
    with pytest.raises(InputFileError, match="missing prompt field 'prompt'"):
        load_prompts(path)


def test_column_mapping_and_hash_ids(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("question,topic,extra\nHow do I kill a Python process?,,a\nHi,violence,b\n")
    recs = load_prompts(path, columns=ColumnMap(prompt="question", id=None, category="topic"))
    assert recs[0].category is None and recs[1].category == ["violence"]
    assert recs[0].id.startswith("p-") and recs[0].metadata == {"extra": "a"}
    assert load_prompts(path, columns=ColumnMap(prompt="question", id=None))[0].id == recs[0].id


def test_duplicate_id_rejected(tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}])
    with pytest.raises(InputFileError, match="duplicate id 'a'"):
        load_prompts(path)


def test_empty_source(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text("")
    with pytest.raises(InputFileError, match="no prompts"):
        load_prompts(path)


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": ["x", "y"], "prompt": ["a", "b"]}), path)
    assert [r.id for r in load_prompts(path)] == ["x", "y"]


def test_shared_xstest_csv(shared_data):
    recs = load_prompts(shared_data / "xstest" / "xstest_prompts.csv", columns=ColumnMap(category=None))
    assert len(recs) == 450
    assert recs[0].metadata["type"]


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("hi")
    with pytest.raises(InputFileError, match="unsupported"):
        load_prompts(path)
