"""Benign prompts in the RL set, so GRPO rewards helpfulness as well as safe behaviour.

An RL set of safety prompts only rewards the policy for what it does near the policy's edges;
with nothing pulling the other way it learns that hedging pays. So a share of the prompts
(``benign_ratio``, default 0.2) is benign: category ``none``, expected mode ``comply``, scored by
the same answer-only judge (with the spec's general principles: answer fully) and, where used,
the refusal-mode reward (a refusal scores 0).

They come from ``benign_dataset`` (prompt files as for ``--dataset``, or a GSM8K JSONL whose
questions are used; every prompt of it counts as benign), else from the RL set's own ``none``
prompts, repeated. The set is topped up to the ratio, never thinned. What was added, and from
where, goes to the manifest (``details.benign``); when nothing can be added (no benign source at
all) a warning says so and the manifest records it.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from deliberate.records.modes import NONE_CATEGORY

log = logging.getLogger(__name__)
Row = dict[str, Any]


def _is_benign(row: Row) -> bool:
    return list(row.get("category") or []) == [NONE_CATEGORY]


def _row(prompt_id: str, text: str) -> Row:
    return {"prompt": [{"role": "user", "content": text}], "prompt_id": prompt_id,
            "category": [NONE_CATEGORY], "expected_mode": "comply"}


def _pool(source: str) -> list[Row]:
    """Every prompt of ``source`` as a benign row (a GSM8K file: its questions)."""
    from deliberate.evals.gsm8k import is_gsm8k_file, load_gsm8k
    from deliberate.records import load_prompts

    if is_gsm8k_file(source):
        return [_row(f"benign-{p.id}", p.question) for p in load_gsm8k("train", source)]
    return [_row(f"benign-{r.id}", r.text) for r in load_prompts(source, columns=None)]


def _take(pool: list[Row], need: int, repeat: bool, seed: int) -> list[Row]:
    """``need`` rows of ``pool``: a sample, or (``repeat``) the pool cycled, each copy its own id."""
    shuffled = random.Random(seed).sample(pool, len(pool))
    if not repeat:
        return shuffled[:need]
    return [{**shuffled[i % len(shuffled)], "expected_mode": "comply",
             "prompt_id": f"{shuffled[i % len(shuffled)]['prompt_id']}#benign{i // len(shuffled) + 1}"}
            for i in range(need)]


def add_benign(rows: list[Row], source: str | None, ratio: float, seed: int = 0) -> tuple[list[Row], dict]:
    """``rows`` topped up with benign prompts to ``ratio`` of the set; and ``details.benign``."""
    details: dict[str, Any] = {"dataset": source, "ratio": ratio, "added": 0}
    have = sum(map(_is_benign, rows))
    others = len(rows) - have
    need = round(others * ratio / (1 - ratio)) - have if ratio > 0 else 0
    pool = _pool(source) if source and need > 0 else [r for r in rows if _is_benign(r)]
    if need > 0 and pool:
        added = _take(pool, need, repeat=source is None, seed=seed)
        if len(added) < need:
            log.warning("benign_dataset has %d prompts, %d wanted: all of them are used", len(added), need)
        rows = [*rows, *added]
        details["added"] = len(added)
    elif need > 0:
        details["note"] = ("no benign prompts added: the RL set has no 'none'-category prompt and "
                           "no benign_dataset was given")
        log.warning("RL: %s; GRPO will see safety prompts only", details["note"])
    benign = sum(map(_is_benign, rows))
    details.update(benign_rows=benign, ratio_reached=round(benign / len(rows), 4) if rows else 0.0,
                   source=source or "the RL set's own 'none' prompts, repeated")
    return rows, details
