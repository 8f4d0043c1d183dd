"""``--shard K/N``: a partition by prompt id that is disjoint, complete and stable."""

from __future__ import annotations

import pytest

from deliberate.records.shards import Shard, shard_of

IDS = [f"p{i}" for i in range(2000)]


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_every_id_is_in_exactly_one_shard(count):
    shards = [Shard(k, count) for k in range(1, count + 1)]
    for prompt_id in IDS:
        assert sum(shard.contains(prompt_id) for shard in shards) == 1
    sizes = [sum(shard.contains(p) for p in IDS) for shard in shards]
    assert sum(sizes) == len(IDS)
    assert min(sizes) > len(IDS) / count * 0.8  # a hash partition: roughly even


def test_the_partition_depends_on_the_id_alone():
    # pinned: every machine (any Python, any input order) computes the same shard for an id
    assert [shard_of(p, 4) for p in ("a", "b", "p0", "p1")] == [3, 3, 1, 4]


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "1", "a/b", "1/4/2", "-1/4", ""])
def test_bad_shards_are_refused_with_the_rule(text):
    with pytest.raises(ValueError, match="K/N|between 1 and N"):
        Shard.parse(text)


def test_a_shard_names_its_files():
    shard = Shard.parse(" 2/8 ")
    assert shard == Shard(2, 8) and shard.tag == "shard-2-of-8" and str(shard) == "2/8"
