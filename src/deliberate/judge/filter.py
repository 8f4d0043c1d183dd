"""Filter judged generations and export the SFT dataset.

Keeps samples whose min-of-k score reaches ``min_score`` and that pass the code checks (and,
with ``require_mode_agreement``, whose modes agree); then optionally the best sample per prompt,
near-duplicate removal and a per-category cap. Every drop is counted with its reason:
``format``, ``spec_leak``, ``citation``, ``judge_failed``, ``low_score``, ``mode_disagreement``,
``not_best``, ``duplicate_prompt``, ``category_cap``. The export is the conversation as the
teacher saw it, operator (system, developer) turns included, then the assistant turn with the
reasoning in a separate field (and optionally ``<think>`` in the text); no spec anywhere.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from deliberate.judge.dedup import near_duplicate_groups
from deliberate.llm.reasoning import join_reasoning
from deliberate.records.generation import SCORE_MAX, SCORE_MIN, JudgedRecord, SFTExample
from deliberate.records.modes import ResponseMode
from deliberate.spec.checks import LEAK_QUOTE_WORDS


class FilterConfig(BaseModel):
    """What to keep (``deliberate filter`` flags, ``stages.filter``)."""

    model_config = ConfigDict(extra="forbid")

    min_score: float = Field(default=8.0, ge=SCORE_MIN, le=SCORE_MAX,
                             description="Keep samples whose min-of-k judge score (0-10) >= this.")
    require_valid_citations: bool = Field(default=True, description="Drop CoTs with invalid citations.")
    require_mode_agreement: bool = Field(default=False, description="Drop samples where the "
                                         "judge's expected mode, the known mode (expected or "
                                         "labeler-suggested) and the mode the CoT declared "
                                         "disagree (those that are present).")
    strict_quotes: bool = Field(default=False, description=f"Drop CoTs repeating {LEAK_QUOTE_WORDS}+ "
                                "consecutive words of the spec as spec leaks (default: quoting "
                                "from memory is allowed; only references to a spec in context are).")
    best_per_prompt: bool = Field(default=False, description="Keep only the best sample per prompt.")
    dedup_threshold: float | None = Field(default=0.8, gt=0.0, le=1.0, description="Near-duplicate "
                                          "prompt Jaccard similarity in (0, 1]; None: off.")
    max_per_category: int | None = Field(default=None, ge=1, description="Cap kept samples per category.")
    reasoning_field: str = Field(default="reasoning_content", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                 description="Assistant field for the CoT (not role or content).")
    think_in_content: bool = Field(default=False, description="Also put <think>CoT</think> in content.")
    seed: int = Field(default=0, description="Seed for the category cap's sampling.")


    @field_validator("reasoning_field")
    @classmethod
    def _not_a_message_key(cls, value: str) -> str:
        if value in ("role", "content"):
            raise ValueError(f"'{value}' is a message key of its own; use e.g. reasoning_content")
        return value


class FilterSummary(BaseModel):
    kept: dict[str, int] = Field(default_factory=dict, description="Kept samples per category.")
    dropped: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="category -> first reason -> samples (adds up to the drops).")
    reasons: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="category -> reason -> samples it applied to (a sample "
        "with several problems counts under each).")

    def lines(self) -> list[str]:
        cats = sorted(set(self.kept) | set(self.dropped))
        out = []
        for cat in cats:
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(self.dropped.get(cat, {}).items()))
            line = f"{cat}: kept {self.kept.get(cat, 0)}" + (f"; dropped {reasons}" if reasons else "")
            every = self.reasons.get(cat, {})
            if every and every != self.dropped.get(cat, {}):
                line += " (all problems found: " + ", ".join(f"{r} {n}" for r, n in sorted(every.items())) + ")"
            out.append(line)
        return out


SELECTION_REASONS = ("not_best", "duplicate_prompt", "category_cap")


def drop_reasons(record: JudgedRecord, config: FilterConfig) -> list[str]:
    """Every reason the sample fails before selection, in order of precedence (empty: it passes)."""
    checks = record.generation.checks
    long_quote = config.strict_quotes and checks.leak.longest_quote >= LEAK_QUOTE_WORDS
    failed = [
        ("format", not checks.format.ok),
        ("spec_leak", checks.leak.leaked or long_quote),
        ("citation", config.require_valid_citations and not checks.citation.valid),
        ("judge_failed", record.score is None),
        ("low_score", record.score is not None and record.score < config.min_score),
        ("mode_disagreement", config.require_mode_agreement and len(modes_in_play(record)) > 1),
    ]
    return [reason for reason, applies in failed if applies]


def drop_reason(record: JudgedRecord, config: FilterConfig) -> str | None:
    """The first reason the sample fails before selection, or None."""
    return next(iter(drop_reasons(record, config)), None)


def modes_in_play(record: JudgedRecord) -> set[ResponseMode]:
    """The distinct modes the judge's verdicts, the known mode and the CoT's declaration name."""
    gen = record.generation
    modes = {v.expected_mode for v in record.verdicts} | {gen.known_mode, gen.declared_mode}
    return {m for m in modes if m is not None}


def run_filter(config: FilterConfig, records: Iterable[JudgedRecord]) -> tuple[list[SFTExample], FilterSummary]:
    """Keep what passes, select, dedup and cap; every drop is counted with its reason.

    ``records`` is read once, lazily: only the samples that pass the checks are held (the
    selection steps rank, dedup and cap across all of them, so they cannot stream further).
    """
    dropped: dict[str, Counter[str]] = defaultdict(Counter)
    every: dict[str, Counter[str]] = defaultdict(Counter)
    passing = []
    for record in records:
        reasons = drop_reasons(record, config)
        every[_cat(record)].update(reasons)
        if reasons:
            dropped[_cat(record)][reasons[0]] += 1
        else:
            passing.append(record)
    passing.sort(key=lambda r: (-(r.score or 0), r.generation.prompt_id, r.generation.sample_index))
    if config.best_per_prompt:
        passing = _first_per(passing, lambda r: r.generation.prompt_id, dropped, "not_best")
    if config.dedup_threshold is not None:
        passing = _dedup(passing, config.dedup_threshold, dropped)
    if config.max_per_category is not None:
        passing = _cap(passing, config.max_per_category, config.seed, dropped)
    kept = Counter(_cat(r) for r in passing)
    for cat, counts in dropped.items():  # selection drops (not_best, ...) have one reason each
        every[cat].update({r: n for r, n in counts.items() if r in SELECTION_REASONS})
    summary = FilterSummary(kept=dict(kept), dropped={c: dict(v) for c, v in dropped.items()},
                            reasons={c: dict(v) for c, v in every.items() if v})
    return [to_sft_example(r, config) for r in passing], summary


def to_sft_example(record: JudgedRecord, config: FilterConfig) -> SFTExample:
    gen = record.generation
    assistant = {"role": "assistant", "content": gen.answer, config.reasoning_field: gen.reasoning}
    if config.think_in_content:
        assistant["content"] = join_reasoning(gen.reasoning, gen.answer)
    messages = [m.model_dump(exclude_none=True) for m in gen.messages]
    return SFTExample(
        messages=[*messages, assistant], prompt_id=gen.prompt_id, sample_index=gen.sample_index,
        category=gen.category, score=record.score, spec_name=gen.spec_name, spec_version=gen.spec_version,
    )


def _cat(record: JudgedRecord) -> str:
    return "+".join(record.generation.category)


def _first_per(records, key, dropped, reason):
    seen, out = set(), []
    for r in records:
        if key(r) in seen:
            dropped[_cat(r)][reason] += 1
        else:
            seen.add(key(r))
            out.append(r)
    return out


def _dedup(records: list[JudgedRecord], threshold: float, dropped) -> list[JudgedRecord]:
    """Keep samples of the first prompt in each near-duplicate group."""
    prompt_ids = list(dict.fromkeys(r.generation.prompt_id for r in records))
    text = {r.generation.prompt_id: r.generation.messages[-1].content for r in records}
    owner = near_duplicate_groups([text[p] for p in prompt_ids], threshold)
    keep = {p for i, p in enumerate(prompt_ids) if owner[i] == i}
    out = []
    for r in records:
        if r.generation.prompt_id in keep:
            out.append(r)
        else:
            dropped[_cat(r)]["duplicate_prompt"] += 1
    return out


def _cap(records: list[JudgedRecord], cap: int, seed: int, dropped) -> list[JudgedRecord]:
    by_cat: dict[str, list[JudgedRecord]] = defaultdict(list)
    for r in records:
        by_cat[_cat(r)].append(r)
    rng = random.Random(seed)
    out = []
    for cat, items in by_cat.items():
        if len(items) > cap:
            chosen = set(map(id, rng.sample(items, cap)))
            dropped[cat]["category_cap"] += len(items) - cap
            items = [r for r in items if id(r) in chosen]
        out.extend(items)
    return out
