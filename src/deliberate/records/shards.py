"""Shards: a stable partition of a stage's inputs by prompt id, for running it on N machines.

A prompt belongs to shard ``K`` of ``N`` when the first 8 bytes of ``sha256(prompt_id)``, as a
big-endian integer, are ``K - 1`` modulo ``N``. The hash depends on the id alone, so every
machine computes the same partition without talking to the others, any input order gives the
same shards, and the generations and judgments of a prompt (which carry its ``prompt_id``) land
in the same shard as the prompt itself: a shard's ``generate`` reads only its own labelled file.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class Shard(NamedTuple):
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/8"`` -> ``Shard(2, 8)``; ``ValueError`` (one line) for anything else."""
        match = SHARD_PATTERN.match(text)
        if not match:
            raise ValueError(f"'{text}' is not K/N (e.g. 1/4: the first of four shards)")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise ValueError(f"'{text}': K must be between 1 and N, and N at least 1")
        return cls(index, count)

    def contains(self, prompt_id: str) -> bool:
        return shard_of(prompt_id, self.count) == self.index

    @property
    def tag(self) -> str:
        """The file-name tag: ``shard-2-of-8``."""
        return f"shard-{self.index}-of-{self.count}"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(prompt_id: str, count: int) -> int:
    """The (1-based) shard of ``count`` that ``prompt_id`` belongs to."""
    digest = hashlib.sha256(prompt_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1
