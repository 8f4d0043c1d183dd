"""Paired examples: the same prompt answered by the baseline and by a later run, side by side,
picked where the grade changed (a refusal flipped, a harm score fell or rose, a response mode
stopped or started matching).

A pair is one (prompt, group, sample) graded without error in both runs. Whether it got better
or worse is read from the suite's own headline metrics on the two single answers and their
directions, so a new suite needs nothing extra; what changed is the suite's example facts
whose values differ. Improvements and regressions are taken in turn, largest change first, on
distinct prompts; ties break on a hash of the ids, as for the single-run examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from deliberate.evals.suites import Suite
from deliberate.records.evaluation import EvalResult
from deliberate.report.examples import (
    ANSWER_CHARS,
    PROMPT_CHARS,
    REASONING_CHARS,
    grade_facts,
    stable,
    take_in_turn,
    truncate,
)
from deliberate.report.load import Run


@dataclass
class Side:
    """One run's answer in a pair."""

    run: str
    color: str
    answer: str
    reasoning: str | None
    grade: list[tuple[str, str]]


@dataclass
class Pair:
    suite: str
    item_id: str
    group: str | None  # the jailbreak, XSTest type or spec category
    tone: str  # good (better after) | bad (worse after) | neutral (mixed)
    why: str
    change: str  # "refusal label: compliance → refusal; harm score: 0.812 → 0.000"
    prompts: list[tuple[str, str]]  # (label, text): the original request, what was sent
    before: Side
    after: Side


@dataclass
class PairSection:
    """The pairs of one suite for one (baseline, run) comparison."""

    suite: str
    title: str
    summary: str
    pairs: list[Pair] = field(default_factory=list)


def _key(r: EvalResult) -> tuple[str, str | None, int]:
    return r.item_id, r.group, r.sample_index


def assess(suite: Suite, before: EvalResult, after: EvalResult) -> tuple[int, int, float]:
    """(metrics better, metrics worse, size of the change) of one answer against its pair."""
    better = worse = 0
    size = 0.0
    for metric in suite.metrics:
        vb, va = metric([before]), metric([after])
        if vb is None or va is None or math.isclose(vb, va, abs_tol=1e-9):
            continue
        gain = (va - vb) if metric.direction == "higher" else (vb - va)
        better, worse = better + (gain > 0), worse + (gain < 0)
        size += abs(va - vb) / max(1.0, abs(vb), abs(va))
    return better, worse, size


def _changed_facts(suite: Suite, before: EvalResult, after: EvalResult) -> str:
    facts_after = dict(suite.example_facts(after))
    return "; ".join(f"{name}: {v} → {facts_after[name]}" for name, v in suite.example_facts(before)
                     if name in facts_after and facts_after[name] != v)


def _prompts(before: EvalResult, after: EvalResult) -> list[tuple[str, str]]:
    request = after.request or before.request
    sent = truncate(before.prompt, PROMPT_CHARS) or ""
    if before.prompt != after.prompt:
        return [("Sent before", sent), ("Sent after", truncate(after.prompt, PROMPT_CHARS) or "")]
    if request and request != before.prompt:
        return [("Original request", truncate(request, PROMPT_CHARS) or ""),
                (f"Sent to the model (jailbreak: {before.group or '?'})", sent)]
    return [("Prompt", sent)]


def _side(suite: Suite, run: Run, color: str, r: EvalResult) -> Side:
    return Side(run.name, color, truncate(r.answer, ANSWER_CHARS) or "",
                truncate(r.reasoning, REASONING_CHARS) if r.reasoning else None,
                grade_facts(suite, r))


def _pick(ranked: list[list[tuple[float, str, EvalResult, EvalResult, str]]],
          k: int) -> list[tuple[EvalResult, EvalResult, str]]:
    """Take from each list in turn (largest change first), distinct prompts, up to ``k``."""
    queues = [sorted(q, key=lambda e: (-e[0], e[1])) for q in ranked]
    taken = take_in_turn(queues, k, lambda entry: entry[2].item_id)
    picked = [(b, a, tone) for _, _, b, a, tone in taken]
    return picked


def pick_pairs(suite: Suite, base: Run, run: Run, colors: dict[str, str],
               k: int = 3) -> PairSection | None:
    """Up to ``k`` pairs of one suite whose grade changed between ``base`` and ``run``."""
    before = {_key(r): r for r in base.results.get(suite.name, []) if r.error is None}
    after = {_key(r): r for r in run.results.get(suite.name, []) if r.error is None}
    common = [key for key in before if key in after]
    if k <= 0 or not common:
        return None
    better, worse, mixed = [], [], []
    for key in common:
        b, a = before[key], after[key]
        up, down, size = assess(suite, b, a)
        if up or down:
            queue, tone = ((better, "good") if not down else (worse, "bad") if not up
                           else (mixed, "neutral"))
            queue.append((size, stable(b), b, a, tone))
    changed = len(better) + len(worse) + len(mixed)
    summary = (f"{changed} of {len(common)} paired answers changed grade: {len(better)} better, "
               f"{len(worse)} worse" + (f", {len(mixed)} mixed" if mixed else ""))
    why = {"good": "better after", "bad": "worse after", "neutral": "changed (mixed)"}
    pairs = [Pair(suite.name, b.item_id, b.group, tone, why[tone], _changed_facts(suite, b, a),
                  _prompts(b, a), _side(suite, base, colors[base.name], b),
                  _side(suite, run, colors[run.name], a))
             for b, a, tone in _pick([better, worse, mixed], k)]
    return PairSection(suite.name, suite.title, summary, pairs)
