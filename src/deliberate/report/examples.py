"""Picking a few informative example responses per run and suite, deterministically.

Each suite names the kinds of example it wants (its ``tiers``: the highest harm scores,
overrefusals, mode mismatches...); one is taken from each kind in turn, on distinct prompts.

Ties are broken by a hash of the item id, so the choice is stable across runs of the report and
spread over the data set rather than the alphabetically first ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from deliberate.evals.suites import Suite, Tier
from deliberate.records.evaluation import EvalResult

T = TypeVar("T")

PROMPT_CHARS = 700
ANSWER_CHARS = 2500
REASONING_CHARS = 6000


@dataclass
class Example:
    suite: str
    item_id: str
    why: str
    tone: str  # bad | good | neutral: how the grade reads
    prompt: str
    answer: str
    reasoning: str | None
    grade: list[tuple[str, str]] = field(default_factory=list)


def truncate(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()} … [{len(text) - limit:,} more characters]"


def stable(r: EvalResult) -> str:
    return hashlib.sha1(f"{r.item_id}\x00{r.group}\x00{r.sample_index}".encode()).hexdigest()


def take_in_turn(queues: list[list[T]], k: int, prompt_of: Callable[[T], str]) -> list[T]:
    """Take the head of each non-empty queue in turn, skipping prompts already taken, until
    ``k`` are picked: every kind of example gets shown before any kind gets a second."""
    queues = [list(q) for q in queues]
    picked: list[T] = []
    seen: set[str] = set()
    while len(picked) < k and any(queues):
        for q in queues:
            while q and prompt_of(q[0]) in seen:
                q.pop(0)
            if q and len(picked) < k:
                picked.append(q.pop(0))
                seen.add(prompt_of(picked[-1]))
    return picked


def _round_robin(results: Sequence[EvalResult], tiers: Sequence[Tier], k: int) -> list[tuple[EvalResult, Tier]]:
    """One example from each tier in turn (distinct prompts) until ``k`` are picked."""
    usable = [r for r in results if r.error is None] or list(results)
    queues = [
        [(r, tier) for r in sorted((r for r in usable if tier.accept(r)),
                                   key=lambda r, tier=tier: (tier.sort_key(r), stable(r)))]
        for tier in tiers
    ]
    return take_in_turn(queues, k, lambda entry: entry[0].item_id)


def _fmt(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _details(r: EvalResult, shown: set[str]) -> list[tuple[str, str]]:
    """Up to six short scalar grader details not already shown."""
    scalars = [(k, v) for k, v in sorted(r.details.items())
               if k not in shown and isinstance(v, (str, int, float, bool)) and len(str(v)) <= 60]
    return [(k, _fmt(v)) for k, v in scalars[:6]]


def grade_facts(suite: Suite, r: EvalResult) -> list[tuple[str, str]]:
    facts = suite.example_facts(r)
    shown = {name.replace(" ", "_") for name, _ in facts}
    facts += _details(r, shown)
    if r.sample_index:
        facts.append(("sample", str(r.sample_index)))
    if r.error:
        facts.append(("error", r.error))
    return facts


def pick_examples(suite: Suite, results: Sequence[EvalResult], k: int = 3) -> list[Example]:
    """Up to ``k`` informative examples of one suite's results (texts truncated, not escaped)."""
    if k <= 0 or not results:
        return []
    return [
        Example(suite=suite.name, item_id=r.item_id, why=tier.why,
                tone=tier.tone(r) if callable(tier.tone) else tier.tone,
                prompt=truncate(r.prompt, PROMPT_CHARS) or "",
                answer=truncate(r.answer, ANSWER_CHARS) or "",
                reasoning=truncate(r.reasoning, REASONING_CHARS) if r.reasoning else None,
                grade=grade_facts(suite, r))
        for r, tier in _round_robin(results, suite.tiers, k)
    ]
