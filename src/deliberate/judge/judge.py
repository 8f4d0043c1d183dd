"""The spec-aware judge, written once and used three ways: data filter, evaluation, RL reward.

The judge sees spec(category), the conversation (operator system and developer turns included),
(unless ``answer_only``) the chain of thought, and the answer, each fenced (:func:`deliberate.prompts.fence`) so that text inside cannot pose
as instructions, as a turn of the conversation, or close its own section. Its verdict is JSON parsed from its own reply; k judgments per sample are aggregated by
their minimum, because one judgment can miss a problem. A sample with any failed judgment gets
no score rather than a score from fewer judgments. Where the response mode is known before
judging (the prompt's ``expected_mode``, or the labeler's ``suggested_mode``), the judge is told
it as advisory context; its own ``expected_mode`` in each verdict is what it concluded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deliberate.errors import DeliberateError
from deliberate.judge.score import min_of_k, parse_verdict
from deliberate.llm import Backend, BackendOptions, ModelRequest, SamplingConfig, UsageReport
from deliberate.llm.parsed import generate_parsed
from deliberate.llm.types import ChatMessage
from deliberate.prompts import load_template
from deliberate.records.chunked import (
    DEFAULT_CHUNK,
    StreamTotals,
    run_chunked,
    shared_backend,
    stage_fingerprint,
)
from deliberate.records.generation import GenerationRecord, JudgedRecord, Verdict
from deliberate.records.modes import NONE_CATEGORY, ResponseMode
from deliberate.records.response import FailureRecord
from deliberate.records.stage_output import StageResult
from deliberate.spec.model import Spec

JUDGE_SAMPLING = SamplingConfig(temperature=0.7, max_tokens=1024)
"""How evaluation and the RL reward sample the judge unless told otherwise."""


class JudgeConfig(BaseModel):
    """How generations are judged (``deliberate judge`` flags, ``stages.judge``)."""

    model_config = ConfigDict(extra="forbid")

    judge_k: int = Field(default=3, ge=1, description="Judgments per sample; the sample's score "
                         "is their minimum.")
    answer_only: bool = Field(default=False, description="Hide the chain of thought from the "
                              "judge (the RL reward's mode).")
    temperature: float = Field(default=JUDGE_SAMPLING.temperature, ge=0.0,
                               description="Judge sampling temperature.")
    max_tokens: int = Field(default=JUDGE_SAMPLING.max_tokens, ge=1,
                            description="Most new tokens per judge reply.")
    skip_rejected: bool = Field(default=False, description="Do not judge samples the code checks "
                                "already reject (reply malformed, spec leak, invalid citations): "
                                "they get no score and cost no judge call.")
    allow_spec_change: bool = Field(default=False, description="Judge generations made with "
                                    "another spec (or another version of its excerpt) anyway.")


class JudgeInput(NamedTuple):
    """What the judge grades: the conversation, the categories, the reasoning and the answer;
    ``expected_mode``: the mode known before judging, shown to the judge as advisory."""

    id: str
    messages: list[ChatMessage]
    categories: list[str]
    reasoning: str | None
    answer: str
    expected_mode: ResponseMode | None = None


def judge_messages(item: JudgeInput, spec: Spec, *, answer_only: bool) -> list[ChatMessage]:
    """The judge's system and user messages; every turn of the conversation (system and developer
    turns included) is fenced on its own, its role in the fence, so no text can pose as a turn."""
    system = load_template("judge_system").render(answer_only=answer_only)
    user = load_template("judge_user").render(
        excerpts=[spec.for_categories(item.categories)], conversation=item.messages,
        reasoning=None if answer_only else (item.reasoning or ""), answer=item.answer,
        expected_mode=item.expected_mode.value if item.expected_mode else None,
    )
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]


def judge_template_hash() -> str:
    return load_template("judge_system").hash + load_template("judge_user").hash


class Judgment(NamedTuple):
    verdicts: list[Verdict]
    errors: list[str]
    score: float | None


def judge_items(
    items: Sequence[JudgeInput],
    spec: Spec,
    judge: str | Backend,
    *,
    k: int = 3,
    answer_only: bool = False,
    options: BackendOptions | None = None,
    config: SamplingConfig = JUDGE_SAMPLING,
    description: str = "judge",
) -> tuple[list[Judgment], UsageReport]:
    """k judgments per item, aggregated by minimum; returns judgments and usage."""
    requests = [
        ModelRequest(id=f"{item.id}@{j}", messages=judge_messages(item, spec, answer_only=answer_only),
                     config=config, sample_index=j)
        for item in items
        for j in range(k)
    ]
    run = generate_parsed(requests, judge, parse_verdict, options, description=description)
    judgments = []
    for i in range(len(items)):
        parsed = run.results[i * k:(i + 1) * k]
        verdicts = [p.value for p in parsed if p.value is not None]
        errors = [p.error or "" for p in parsed if p.value is None]
        judgments.append(Judgment(verdicts, errors, min_of_k(verdicts, errors)))
    return judgments, run.usage


def check_generations(generations: Sequence[GenerationRecord], spec: Spec, *,
                      allow_spec_change: bool = False) -> None:
    """Every generation's categories exist in ``spec`` and it was made with this spec's excerpt.

    Judging against rules the teacher never saw would score it by the wrong policy, silently.
    """
    for g in generations:
        unknown = [c for c in g.category if c != NONE_CATEGORY and c not in spec.category_ids]
        if unknown:
            raise DeliberateError(f"generation {g.key}: category '{unknown[0]}' is not in spec "
                                  f"'{spec.name}' (it has: {', '.join(spec.category_ids)})")
        current = spec.excerpt_hash(g.category)
        if not allow_spec_change and (g.spec_name != spec.name or g.excerpt_hash != current):
            raise DeliberateError(
                f"generation {g.key} was made with spec '{g.spec_name}' v{g.spec_version} "
                f"(excerpt {g.excerpt_hash}); this spec is '{spec.name}' v{spec.version} (excerpt "
                f"{current}): regenerate, or pass --allow-spec-change to judge it anyway")


def run_judge(
    config: JudgeConfig,
    generations: Sequence[GenerationRecord],
    *,
    spec: Spec,
    judge: str | Backend,
    options: BackendOptions | None = None,
) -> StageResult:
    """Judge teacher generations; every generation comes back, scored or with its errors."""
    check_generations(generations, spec, allow_spec_change=config.allow_spec_change)
    skipped = {g.key: rejected_by_checks(g) for g in generations} if config.skip_rejected else {}
    to_judge = [g for g in generations if not skipped.get(g.key)]
    items = [JudgeInput(g.key, g.messages, g.category, g.reasoning, g.answer, g.known_mode)
             for g in to_judge]
    sampling = SamplingConfig(temperature=config.temperature, max_tokens=config.max_tokens)
    judgments, usage = judge_items(items, spec, judge, k=config.judge_k, options=options,
                                   answer_only=config.answer_only, config=sampling)
    by_key = dict(zip((g.key for g in to_judge), judgments))
    ref = judge if isinstance(judge, str) else judge.ref
    records = [_judged(g, by_key.get(g.key), skipped.get(g.key), ref, config) for g in generations]
    # Unscored samples stay in the records (the filter counts them); those the judge failed on
    # are also listed as failures (samples not judged on purpose are not).
    failures = [FailureRecord(id=r.generation.key, stage="judge", model=ref, error="; ".join(r.errors))
                for r in records if r.score is None and r.generation.key in by_key]
    return StageResult(records, failures, usage)


def stream_judge(config: JudgeConfig, generations: Iterable[GenerationRecord], out: str | Path, *,
                 spec: Spec, judge: str | Backend, options: BackendOptions | None = None,
                 chunk_size: int = DEFAULT_CHUNK) -> StreamTotals:
    """:func:`run_judge` over generations of any number, read lazily and written to ``out`` as
    each chunk is done, resumable (:mod:`deliberate.records.chunked`); one backend for all.
    Tally: ``unscored`` (every generation has a record, scored or not)."""
    backend = shared_backend(judge, options)

    def run(chunk: list[GenerationRecord]) -> StageResult:
        return run_judge(config, chunk, spec=spec, judge=backend(), options=options)

    ref = judge if isinstance(judge, str) else judge.ref
    return run_chunked(generations, run, out, key=lambda g: g.key, chunk_size=chunk_size,
                       tally=lambda records: {"unscored": sum(r.score is None for r in records)},
                       fingerprint=stage_fingerprint("judge", config, ref, spec.content_hash))


def rejected_by_checks(generation: GenerationRecord) -> str | None:
    """Which code check already rejects the sample (so a judge call would be wasted), or None."""
    checks = generation.checks
    for name, failed in (("format", not checks.format.ok), ("spec_leak", checks.leak.leaked),
                         ("citation", not checks.citation.valid)):
        if failed:
            return name
    return None


def _judged(g: GenerationRecord, judgment: Judgment | None, skipped: str | None, ref: str,
            config: JudgeConfig) -> JudgedRecord:
    common = {"generation": g, "judge": ref, "judge_template_hash": judge_template_hash(),
              "answer_only": config.answer_only}
    if judgment is None:
        return JudgedRecord(**common, errors=[f"not judged: the {skipped} check already rejects it"])
    return JudgedRecord(**common, verdicts=judgment.verdicts, errors=judgment.errors,
                        score=judgment.score)
