"""``deliberate merge``'s core: the sorted union of shard files, the same however they were split."""

from __future__ import annotations

import json
import random

import pytest

from deliberate.errors import InputFileError
from deliberate.records.merge import merge_jsonl, merge_stage_outputs, record_key


def _generation(prompt_id: str, index: int) -> dict:
    return {"prompt_id": prompt_id, "sample_index": index, "answer": f"a {prompt_id} {index} é"}


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [_generation(f"p{i}", k) for i in range(57) for k in range(3)]


@pytest.mark.parametrize("run_lines", [7, 100_000])  # external sort (many runs) and in memory
def test_any_split_in_any_order_merges_to_the_same_bytes(tmp_path, run_lines):
    whole = merge_jsonl(tmp_path / "whole.jsonl", [_write(tmp_path / "all.jsonl", ROWS)], run_lines)
    shuffled = ROWS[:]
    random.Random(3).shuffle(shuffled)
    parts = [_write(tmp_path / f"part{i}.jsonl", shuffled[i::4]) for i in range(4)]
    merged = merge_jsonl(tmp_path / "merged.jsonl", parts[::-1], run_lines)
    assert whole == merged == len(ROWS)
    assert (tmp_path / "merged.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    lines = (tmp_path / "merged.jsonl").read_text(encoding="utf-8").splitlines()
    assert [record_key(json.loads(line)) for line in lines] == sorted(
        (r["prompt_id"], r["sample_index"]) for r in ROWS)
    # lines are copied as they were written (json.dumps' spacing, ensure_ascii escapes)
    assert set(lines) == {json.dumps(r) for r in ROWS}


def test_records_of_each_kind_have_a_key():
    assert record_key({"id": "x"}) == ("x", 0)
    assert record_key({"generation": {"prompt_id": "p", "sample_index": 2}}) == ("p", 2)
    with pytest.raises(ValueError):
        record_key({"text": "no id"})


def test_overlapping_inputs_are_an_error(tmp_path):
    a = _write(tmp_path / "a.jsonl", ROWS[:10])
    b = _write(tmp_path / "b.jsonl", ROWS[5:15])
    with pytest.raises(InputFileError, match="more than one input"):
        merge_jsonl(tmp_path / "out.jsonl", [a, b])
    assert not (tmp_path / "out.jsonl").exists()


def test_failure_and_usage_sidecars_are_merged(tmp_path):
    a = _write(tmp_path / "a.jsonl", ROWS[:6])
    b = _write(tmp_path / "b.jsonl", ROWS[6:12])
    _write(tmp_path / "b.failures.jsonl", [{"id": "q#1", "error": "x"}, {"id": "q#0", "error": "y"}])
    for path, n in ((tmp_path / "a.usage.json", 2), (tmp_path / "b.usage.json", 3)):
        path.write_text(json.dumps({"models": {"openai/m": {"requests": n}}}))
    records, failures = merge_stage_outputs(tmp_path / "out.jsonl", [a, b])
    assert (records, failures) == (12, 2)
    ids = [json.loads(line)["id"] for line in (tmp_path / "out.failures.jsonl").read_text().splitlines()]
    assert ids == ["q#0", "q#1"]
    usage = json.loads((tmp_path / "out.usage.json").read_text())
    assert usage["models"]["openai/m"]["requests"] == 5
