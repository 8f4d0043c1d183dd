"""Label prompts with the spec's categories using an LLM.

The labeler sees the category list with descriptions, the request and any operator (system,
developer) turns before it, and replies ``{"categories": [...], "mode": "..."}``; ``mode`` is
optional, the response mode it expects the policy to call for, kept in the prompt's metadata as
``suggested_mode`` (advisory context for the judge, never a label). A reply that is not such JSON,
or names a category the spec lacks, is re-asked and finally recorded as a failure; an unknown
mode is dropped, not re-asked. Prompts that already carry a category keep it unless ``relabel``.
Stage entry point: :func:`run_label`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deliberate.generate.second_opinion import needs_second_opinion, second_opinion
from deliberate.llm import (
    Backend,
    BackendOptions,
    ModelRequest,
    ModelResponse,
    SamplingConfig,
    UsageReport,
    get_backend,
)
from deliberate.llm.parsed import extract_json_object, generate_parsed
from deliberate.llm.types import ChatMessage
from deliberate.prompts import load_template
from deliberate.records.chunked import (
    DEFAULT_CHUNK,
    StreamTotals,
    run_chunked,
    shared_backend,
    stage_fingerprint,
)
from deliberate.records.generation import SUGGESTED_MODE, mode_or_none
from deliberate.records.modes import NONE_CATEGORY, ResponseMode
from deliberate.records.prompt import PromptRecord
from deliberate.records.response import FailureRecord
from deliberate.records.stage_output import StageResult
from deliberate.spec.model import Spec


class LabelConfig(BaseModel):
    """How prompts are labelled (``deliberate label`` flags, ``stages.label`` in a pipeline)."""

    model_config = ConfigDict(extra="forbid")

    relabel: bool = Field(default=False, description="Relabel prompts that already have a category.")
    temperature: float = Field(default=0.0, ge=0.0, description="Labeler sampling temperature.")
    max_tokens: int = Field(default=256, ge=1, description="Most new tokens per labeler reply.")
    attempts: int = Field(default=3, ge=1, description="Asks per prompt before an unparsable or "
                          "invalid label is recorded as a failure.")
    second_opinion: bool = Field(default=True, description="Ask again when a request labelled none "
                                 "names a category's keywords (the spec lists them); both answers "
                                 "and the terms are kept in metadata.label_flags.")


class Label(NamedTuple):
    categories: list[str]
    mode: ResponseMode | None
    flags: dict | None = None  # the second opinion's record, when one was asked


def parse_label(response: ModelResponse, spec: Spec) -> Label:
    """Categories and the optional suggested mode; ``ValueError`` if the categories are bad."""
    obj = extract_json_object(response.content, "categories")
    return Label(_categories(obj["categories"], spec), mode_or_none(obj.get("mode")))


def parse_categories(response: ModelResponse, spec: Spec) -> list[str]:
    """Categories from the labeler's reply; ``ValueError`` if malformed or unknown."""
    return parse_label(response, spec).categories


def _categories(cats: object, spec: Spec) -> list[str]:
    if isinstance(cats, str):
        cats = [cats]
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        raise ValueError("'categories' must be a list of ids")
    cats = [c.strip() for c in cats if c.strip()] or [NONE_CATEGORY]
    unknown = [c for c in cats if c != NONE_CATEGORY and c not in spec.category_ids]
    if unknown:
        raise ValueError(f"unknown categories {unknown}")
    if NONE_CATEGORY in cats and len(cats) > 1:
        cats = [c for c in cats if c != NONE_CATEGORY]
    return list(dict.fromkeys(cats))


def run_label(
    config: LabelConfig,
    prompts: Sequence[PromptRecord],
    *,
    spec: Spec,
    labeler: str | Backend,
    options: BackendOptions | None = None,
) -> StageResult:
    """Assign categories; returns labelled prompts (input order), failures and usage."""
    template = load_template("label")
    todo = [p for p in prompts if config.relabel or not p.category]
    sampling = SamplingConfig(temperature=config.temperature, max_tokens=config.max_tokens)
    requests = [
        ModelRequest(id=p.id, config=sampling, messages=[ChatMessage(
            role="user", content=template.render(categories=spec.categories, prompt=p.text,
                                                 operator=operator_turns(p)))])
        for p in todo
    ]
    if requests and isinstance(labeler, str):
        labeler = get_backend(labeler, options)  # one backend (one model load) for every ask
    run = generate_parsed(requests, labeler, lambda r: parse_label(r, spec), options,
                          attempts=config.attempts, description="label") if requests else None
    labels = {p.id: parsed for p, parsed in zip(todo, run.results)} if run else {}
    if run and config.second_opinion:
        run = run._replace(usage=run.usage.merge(
            _reconsider(todo, requests, labels, spec, labeler, options, config)))
    ref = labeler if isinstance(labeler, str) else labeler.ref
    records, failures = [], []
    for prompt in prompts:
        parsed = labels.get(prompt.id)
        if parsed is None:
            records.append(prompt)
        elif parsed.value is None:
            failures.append(FailureRecord(id=prompt.id, stage="label", model=ref, error=parsed.error or ""))
        else:
            records.append(_labelled(prompt, parsed.value, ref, template.hash))
    return StageResult(records, failures, run.usage if run else UsageReport())


def stream_label(config: LabelConfig, prompts: Iterable[PromptRecord], out: str | Path, *,
                 spec: Spec, labeler: str | Backend, options: BackendOptions | None = None,
                 chunk_size: int = DEFAULT_CHUNK) -> StreamTotals:
    """:func:`run_label` over prompts of any number, read lazily and written to ``out`` as each
    chunk is done, resumable (:mod:`deliberate.records.chunked`). One backend serves every
    chunk; none is made while no prompt needs a label."""
    backend = shared_backend(labeler, options)

    def run(chunk: list[PromptRecord]) -> StageResult:
        needed = config.relabel or any(not p.category for p in chunk)
        return run_label(config, chunk, spec=spec, labeler=backend() if needed else labeler,
                         options=options)

    ref = labeler if isinstance(labeler, str) else labeler.ref
    return run_chunked(prompts, run, out, key=lambda p: p.id, chunk_size=chunk_size,
                       fingerprint=stage_fingerprint("label", config, ref, spec.content_hash))


def _reconsider(todo: Sequence[PromptRecord], requests: Sequence[ModelRequest], labels: dict,
                spec: Spec, labeler: Backend, options: BackendOptions | None,
                config: LabelConfig) -> UsageReport:
    """Second opinions on ``none`` labels that name a category's terms (updates ``labels``)."""
    picked = [(p, r, flags) for p, r in zip(todo, requests)
              if (done := labels[p.id]).value is not None
              and (flags := needs_second_opinion(p, done.value.categories, spec))]
    if not picked:
        return UsageReport()
    run = second_opinion([r for _, r, _ in picked], [f for _, _, f in picked], labeler,
                         lambda r: parse_label(r, spec), options, config.attempts)
    for (prompt, _, flags), parsed in zip(picked, run.results):
        first = labels[prompt.id].value
        final = parsed.value if parsed.value is not None else first
        record = {"terms": [{"category": c, "keyword": k} for c, k in flags],
                  "first": first.categories, "second": parsed.value.categories if parsed.value else None}
        labels[prompt.id] = labels[prompt.id]._replace(value=final._replace(flags=record))
    return run.usage


def operator_turns(prompt: PromptRecord) -> list[ChatMessage]:
    """The system and developer turns before the request the labeler classifies."""
    return [m for m in prompt.as_messages() if m.role in ("system", "developer")]


def _labelled(prompt: PromptRecord, label: Label, ref: str, template_hash: str) -> PromptRecord:
    meta = {**prompt.metadata, "labeler": ref, "label_template_hash": template_hash}
    meta.pop(SUGGESTED_MODE, None)  # a relabelled prompt keeps no stale suggestion
    if label.mode is not None:
        meta[SUGGESTED_MODE] = label.mode.value
    meta.pop("label_flags", None)
    if label.flags is not None:
        meta["label_flags"] = label.flags
    return prompt.model_copy(update={"category": label.categories, "metadata": meta})
