"""Sample a model's responses to prompts: the building block of evaluation.

Request ids are ``<prompt id>#<sample index>``; with the response cache this makes the stage
resumable and free to re-run.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from deliberate.llm import (
    Backend,
    BackendOptions,
    ModelRequest,
    ModelResponse,
    SamplingConfig,
    generate,
)
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
    reasoning_budget: int | None = Field(default=None, ge=0, description="Cap on reasoning tokens "
                                         "(hf/ models; servers with --reasoning-budget-field).")


def sample_requests(config: SampleConfig, prompts: Sequence[PromptRecord]) -> list[ModelRequest]:
    """The requests :func:`run_sample` sends: each prompt ``config.samples`` times.

    Code that asks a model a prompt on the way to sampling it (an attack probing the evaluated
    model) builds its request here too, so the sampling later finds the reply in the cache.
    """
    sampling = SamplingConfig(temperature=config.temperature, max_tokens=config.max_tokens,
                              reasoning_budget=config.reasoning_budget)
    system = [ChatMessage(role="system", content=config.system_prompt)] if config.system_prompt else []
    return [
        ModelRequest(id=request_id(prompt.id, index), messages=[*system, *prompt.as_messages()],
                     config=sampling, sample_index=index)
        for prompt in prompts for index in range(config.samples)
    ]


def run_sample(config: SampleConfig, prompts: Sequence[PromptRecord], *, model: str | Backend,
               options: BackendOptions | None = None, stage: str = "sample") -> StageResult:
    """Ask ``model`` each prompt ``config.samples`` times; failures are returned, not raised.

    ``stage`` names the run in progress bars and failure records (evaluation uses it too).
    """
    requests = sample_requests(config, prompts)
    output = generate(requests, model, options, description=stage)
    by_id = {p.id: p for p in prompts}
    records, failures = [], []
    ref = model if isinstance(model, str) else model.ref
    for request, result in zip(requests, output.results):
        prompt = by_id[request.id.rsplit("#", 1)[0]]
        if result.response is None:
            failures.append(FailureRecord(id=request.id, stage=stage, model=ref, error=result.error or ""))
            continue
        records.append(_response_record(prompt, request.sample_index, ref, result.response))
    return StageResult(records, failures, output.usage)


def _response_record(prompt: PromptRecord, sample_index: int, ref: str,
                     response: ModelResponse) -> ResponseRecord:
    return ResponseRecord(
        prompt_id=prompt.id, sample_index=sample_index, model=ref, prompt=prompt.text,
        category=prompt.category, reasoning=response.reasoning, answer=response.content,
        reasoning_format=response.reasoning_format, finish_reason=response.finish_reason,
        usage=response.usage, metadata=prompt.metadata,
    )
