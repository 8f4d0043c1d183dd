"""The duplicate-id check's set: the same answers as a set, memory bounded by moving to disk."""

from __future__ import annotations

import json
import random

import pytest

from deliberate.errors import InputFileError
from deliberate.records.seen import SeenIds
from deliberate.records.sources import iter_prompts


def test_answers_like_a_set_across_spills_and_the_sign_bit():
    rng = random.Random(0)
    digests = [rng.getrandbits(64) for _ in range(2_500)] + [0, 2**63, 2**64 - 1]
    seen = SeenIds(spill_at=100)
    for digest in digests:
        seen.add(digest)
    assert seen.on_disk and len(seen._recent) < 100  # most of them left memory
    assert all(d in seen for d in digests)
    assert not any(rng.getrandbits(64) in seen for _ in range(2_000))
    seen.add(digests[5])  # adding a digest already on disk is a no-op, not an error
    assert len(seen) == len(set(digests))
    seen.close()


def test_a_duplicate_id_far_apart_in_a_stream_is_still_found(tmp_path):
    path = tmp_path / "p.jsonl"
    rows = [{"id": f"p{i}", "prompt": "q"} for i in range(50)] + [{"id": "p3", "prompt": "again"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputFileError, match="duplicate id 'p3'") as info:
        list(iter_prompts(path, seen=SeenIds(spill_at=8)))  # p3 went to disk long before
    assert ":51" in str(info.value)
