"""Near-duplicate prompts by MinHash over word 3-grams (Jaccard estimate), bucketed by LSH.

Prompt sets scraped from several sources repeat themselves with small edits; training on many
copies over-weights them. LSH keeps the comparison roughly linear in the number of prompts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

_PERMS = 64
_BANDS = 16
_MASK = (1 << 61) - 1


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < 3:
        return {" ".join(words)}
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def _signature(shingles: set[str]) -> tuple[int, ...]:
    hashes = [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") for s in shingles]
    return tuple(min(((h * (2 * i + 1) + i) & _MASK) for h in hashes) for i in range(_PERMS))


def jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def near_duplicate_groups(texts: Sequence[str], threshold: float = 0.8) -> list[int]:
    """For each text, the index of the first text it duplicates (itself if none)."""
    rows = _PERMS // _BANDS
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    owner = list(range(len(texts)))
    for i, text in enumerate(texts):
        sig = _signature(_shingles(text))
        candidates: set[int] = set()
        for band in range(_BANDS):
            key = (band, sig[band * rows:(band + 1) * rows])
            candidates.update(buckets.setdefault(key, []))
            buckets[key].append(i)
        for j in sorted(candidates):
            if owner[j] == j and jaccard(text, texts[j]) >= threshold:
                owner[i] = j
                break
    return owner
