"""Sample a model's responses to prompts: the building block of evaluation.

Request ids are ``<prompt id>#<sample index>``; with the response cache this makes the stage
resumable and free to re-run.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from deliberate.llm import Backend, BackendOptions, ModelRequest, SamplingConfig, generate
from deliberate.llm.types import ChatMessage
from deliberate.records.prompt import PromptRecord
from deliberate.records.response import FailureRecord, ResponseRecord
from deliberate.records.stage_output import StageResult


def request_id(prompt_id: str, sample_index: int) -> str:
    return f"{prompt_id}#{sample_index}"


class SampleConfig(BaseModel):
    """How a model is sampled (``deliberate sample`` flags)."""

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(default=1, ge=1, description="Samples per prompt.")
    temperature: float = Field(default=0.7, ge=0.0, description="Sampling temperature.")
    max_tokens: int = Field(default=2048, ge=1, description="Most new tokens per reply.")
    system_prompt: str | None = Field(default=None, description="System prompt for every request.")


def run_sample(config: SampleConfig, prompts: Sequence[PromptRecord], *, model: str | Backend,
               options: BackendOptions | None = None) -> StageResult:
    """Ask ``model`` each prompt ``config.samples`` times; failures are returned, not raised."""
    return sample_responses(
        prompts, model, samples=config.samples, options=options, system_prompt=config.system_prompt,
        config=SamplingConfig(temperature=config.temperature, max_tokens=config.max_tokens))


def sample_responses(
    prompts: Sequence[PromptRecord],
    model: str | Backend,
    *,
    samples: int = 1,
    config: SamplingConfig | None = None,
    options: BackendOptions | None = None,
    system_prompt: str | None = None,
    stage: str = "sample",
) -> StageResult:
    """Ask ``model`` each prompt ``samples`` times; failures are returned, not raised."""
    config = config or SamplingConfig()
    requests = []
    for prompt in prompts:
        messages = prompt.as_messages()
        if system_prompt:
            messages = [ChatMessage(role="system", content=system_prompt), *messages]
        for index in range(samples):
            requests.append(
                ModelRequest(id=request_id(prompt.id, index), messages=messages, config=config,
                             sample_index=index)
            )
    output = generate(requests, model, options, description=stage)
    by_id = {p.id: p for p in prompts}
    records, failures = [], []
    ref = model if isinstance(model, str) else model.ref
    for request, result in zip(requests, output.results):
        prompt = by_id[request.id.rsplit("#", 1)[0]]
        if result.response is None:
            failures.append(FailureRecord(id=request.id, stage=stage, model=ref, error=result.error or ""))
            continue
        response = result.response
        records.append(
            ResponseRecord(
                prompt_id=prompt.id, sample_index=request.sample_index, model=ref,
                prompt=prompt.text, category=prompt.category, reasoning=response.reasoning,
                answer=response.content, reasoning_format=response.reasoning_format,
                finish_reason=response.finish_reason, usage=response.usage,
                metadata=prompt.metadata,
            )
        )
    return StageResult(records, failures, output.usage)
