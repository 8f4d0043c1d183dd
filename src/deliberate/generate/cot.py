"""Spec-conditioned chain-of-thought generation: the teacher reasons over spec(category).

For each prompt the teacher gets a system message with the excerpt(s) for the prompt's
categories and instructions to identify, cite and (where useful) quote the applicable rules,
declare the response mode, and answer in the spec's style. The prompt's own conversation follows
as it is, operator (system, developer) turns included: they are part of what the student will
see, and they may switch a rule the spec marks operator-configurable. Because the excerpt is part
of the request, its hash is part of the cache key: after a spec edit only prompts whose excerpt
changed are regenerated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from deliberate.errors import DeliberateError
from deliberate.generate.sample import request_id
from deliberate.llm import Backend, BackendOptions, ModelRequest, SamplingConfig
from deliberate.llm.parsed import generate_parsed
from deliberate.llm.types import ChatMessage, ModelResponse
from deliberate.prompts import load_template
from deliberate.records.chunked import (
    DEFAULT_CHUNK,
    StreamTotals,
    run_chunked,
    shared_backend,
    stage_fingerprint,
)
from deliberate.records.generation import GenerationRecord
from deliberate.records.modes import parse_declared_mode
from deliberate.records.prompt import PromptRecord
from deliberate.records.response import FailureRecord
from deliberate.records.stage_output import StageResult
from deliberate.spec.checks import LEAK_QUOTE_WORDS, check_format, run_checks
from deliberate.spec.model import NONE_CATEGORY, Spec

OperatorRole = Literal["keep", "system", "developer"]
OPERATOR_ROLES = ("system", "developer")


def teacher_messages(prompt: PromptRecord, spec: Spec, *, think_tags: bool = True,
                     operator_role: OperatorRole = "keep") -> list[ChatMessage]:
    """The teacher's own system message (instructions and excerpt(s)), then the prompt's whole
    conversation, operator turns included; ``operator_role`` sends every operator turn as that
    role ("keep": each as written, for backends that accept the developer role)."""
    categories = prompt.category or [NONE_CATEGORY]
    real = [c for c in categories if c != NONE_CATEGORY]
    example_rule = spec.category(real[0]).rules[0].id if real else "style.compliance"
    system = load_template("generate_system").render(
        excerpts=[spec.for_categories(categories)], example_rule=example_rule, think_tags=think_tags,
    )
    conversation = [
        m.model_copy(update={"role": operator_role})
        if m.role in OPERATOR_ROLES and operator_role != "keep" else m
        for m in prompt.as_messages()
    ]
    return [ChatMessage(role="system", content=system), *conversation]


class GenerateConfig(BaseModel):
    """How the teacher samples (``deliberate generate`` flags, ``stages.generate``)."""

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(default=4, ge=1, description="Teacher samples per prompt.")
    temperature: float = Field(default=0.8, ge=0.0, description="Teacher sampling temperature.")
    max_tokens: int = Field(default=4096, ge=1, description="Most new tokens per teacher reply.")
    think_tags: bool = Field(default=True, description="Ask for <think> tags (for teachers "
                             "without a separate reasoning field).")
    operator_role: OperatorRole = Field(default="keep", description="Role the teacher gets the "
                                        "prompt's operator turns in: keep (system or developer, as "
                                        "written), system, or developer; records keep them as written.")
    attempts: int = Field(default=2, ge=1, description="Asks per sample: a reply whose reasoning "
                          "never closes, or with an empty reasoning or answer, is asked again "
                          "(as a new sample) up to this many times in all, then kept as it is.")
    strict_quotes: bool = Field(default=False, description=f"Count a CoT repeating {LEAK_QUOTE_WORDS}+ "
                                "consecutive words of the spec as a spec leak (default: quoting from "
                                "memory is allowed; only references to a spec in context leak).")

    @property
    def sampling(self) -> SamplingConfig:
        return SamplingConfig(temperature=self.temperature, max_tokens=self.max_tokens)


def run_generate(
    config: GenerateConfig,
    prompts: Sequence[PromptRecord],
    *,
    spec: Spec,
    teacher: str | Backend,
    options: BackendOptions | None = None,
) -> StageResult:
    """``config.samples`` teacher samples per prompt, each checked in code; failures returned."""
    unlabelled = [p.id for p in prompts if not p.category]
    if unlabelled:
        raise DeliberateError(
            f"{len(unlabelled)} prompts have no category (first: '{unlabelled[0]}'): "
            "run `deliberate label` first or add a 'category' field"
        )
    sampling = config.sampling
    requests, owners = [], []
    for prompt in prompts:
        messages = teacher_messages(prompt, spec, think_tags=config.think_tags,
                                    operator_role=config.operator_role)
        for index in range(config.samples):
            requests.append(ModelRequest(id=request_id(prompt.id, index), messages=messages,
                                         config=sampling, sample_index=index))
            owners.append(prompt)
    run = generate_parsed(requests, teacher, _well_formed, options, attempts=config.attempts,
                          description="generate")
    ref = teacher if isinstance(teacher, str) else teacher.ref
    records, failures = [], []
    for request, prompt, parsed in zip(requests, owners, run.results):
        if parsed.response is None:  # the request itself failed, after its retries
            failures.append(FailureRecord(id=request.id, stage="generate", model=ref,
                                          error=parsed.error or ""))
        else:  # well formed, or the last malformed reply (the filter drops it as "format")
            records.append(_record(prompt, request, parsed.response, spec, ref, config))
    return StageResult(records, failures, run.usage)


def stream_generate(config: GenerateConfig, prompts: Iterable[PromptRecord], out: str | Path, *,
                    spec: Spec, teacher: str | Backend, options: BackendOptions | None = None,
                    chunk_size: int = DEFAULT_CHUNK) -> StreamTotals:
    """:func:`run_generate` over prompts of any number, read lazily and written to ``out`` as
    each chunk is done, resumable (:mod:`deliberate.records.chunked`); one backend for all.
    Tallies: ``citation_invalid``, ``spec_leak``, ``mode_declared``."""
    backend = shared_backend(teacher, options)

    def run(chunk: list[PromptRecord]) -> StageResult:
        return run_generate(config, chunk, spec=spec, teacher=backend(), options=options)

    ref = teacher if isinstance(teacher, str) else teacher.ref
    return run_chunked(prompts, run, out, key=lambda p: p.id, chunk_size=chunk_size,
                       tally=_tally, fingerprint=stage_fingerprint("generate", config, ref,
                                                                   spec.content_hash))


def _tally(records: list[GenerationRecord]) -> dict[str, int]:
    return {"citation_invalid": sum(not r.checks.citation.valid for r in records),
            "spec_leak": sum(r.checks.leak.leaked for r in records),
            "mode_declared": sum(r.declared_mode is not None for r in records)}


def _well_formed(response: ModelResponse) -> ModelResponse:
    """The reply if its reasoning and answer are both there; ``ValueError`` asks again."""
    check = check_format(response.reasoning, response.content, response.reasoning_format)
    if not check.ok:
        raise ValueError(check.reason or "malformed reply")
    return response


def _record(prompt: PromptRecord, request: ModelRequest, resp: ModelResponse, spec: Spec,
            teacher: str, config: GenerateConfig) -> GenerationRecord:
    categories = prompt.category or [NONE_CATEGORY]
    checks = run_checks(resp.reasoning, resp.content, resp.reasoning_format, spec, categories,
                        strict_quotes=config.strict_quotes)
    return GenerationRecord(
        prompt_id=prompt.id, sample_index=request.sample_index, messages=prompt.as_messages(),
        category=categories, expected_mode=prompt.expected_mode, spec_name=spec.name,
        spec_version=spec.version, excerpt_hash=spec.excerpt_hash(categories), teacher=teacher,
        template_hash=load_template("generate_system").hash, sampling=request.config,
        reasoning=resp.reasoning, answer=resp.content, reasoning_format=resp.reasoning_format,
        usage=resp.usage, finish_reason=resp.finish_reason, checks=checks,
        declared_mode=parse_declared_mode(resp.reasoning),
        metadata=prompt.metadata,
    )
