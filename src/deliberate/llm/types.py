"""What goes into a model and what comes back, whatever the backend."""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str
    reasoning_content: str | None = Field(
        default=None, description="Chain of thought of an assistant turn, kept apart from content."
    )


class SamplingConfig(BaseModel):
    """Sampling parameters; part of every request's cache key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(default=0.7, ge=0.0, description="Sampling temperature.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(default=2048, ge=1, description="Most new tokens per reply.")
    seed: int | None = Field(default=None, description="Sampling seed, where the backend has one.")
    stop: tuple[str, ...] | None = Field(default=None, description="Stop sequences.")
    reasoning_budget: int | None = Field(
        default=None, ge=0, description="Most tokens of reasoning before the answer: local models "
        "stop the chain of thought there and close it; servers need the request field that caps it "
        "(BackendOptions.reasoning_budget_field). None: no cap.")


class ModelRequest(BaseModel):
    """One call to a model, with an id that is stable across runs."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Caller's stable id, e.g. '<prompt id>#<sample index>'.")
    messages: list[ChatMessage]
    config: SamplingConfig = Field(default_factory=SamplingConfig)
    sample_index: int = Field(default=0, ge=0, description="k samples of one prompt: 0..k-1.")

    def cache_key(self, model_ref: str) -> str:
        """Content hash of (model, messages, sampling params, sample index)."""
        config = self.config.model_dump()
        if config["reasoning_budget"] is None:  # keys of requests without a budget stay as they were
            del config["reasoning_budget"]
        payload = {
            "model": model_ref,
            "messages": [m.model_dump(exclude_none=True) for m in self.messages],
            "config": config,
            "sample_index": self.sample_index,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ReasoningFormat(str, Enum):
    """Where the chain of thought was found, or what went wrong finding it."""

    field = "field"  # a reasoning_content / reasoning field of the API reply
    think_tags = "think_tags"  # <think>...</think> in the text
    close_only = "close_only"  # text before a lone </think> (template opened the tag)
    harmony = "harmony"  # analysis / final channels
    unclosed = "unclosed"  # <think> never closed: all reasoning, no answer (flagged)
    salvaged = "salvaged"  # <think> never closed, but a "Final answer:" line ends it (recovered)
    none = "none"  # no reasoning at all (flagged for reasoning models)


class Usage(BaseModel):
    """Token counts of one reply."""

    input_tokens: int = 0
    output_tokens: int = 0


class ModelResponse(BaseModel):
    """A reply split into chain of thought and final answer."""

    content: str = Field(description="The final answer shown to the user.")
    reasoning: str | None = Field(default=None, description="The chain of thought, if any.")
    reasoning_format: ReasoningFormat = ReasoningFormat.none
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str = Field(default="", description="Model ref that produced it.")


class ModelResult(BaseModel):
    """Outcome of one request: a response, or the reason it failed for good."""

    id: str
    key: str = Field(description="Cache key of the request.")
    response: ModelResponse | None = None
    error: str | None = Field(default=None, description="Why it failed, after retries.")
    cached: bool = Field(default=False, description="Served from the cache, no call made.")
    attempts: int = Field(default=0, description="Calls made for it in this run.")

    @property
    def ok(self) -> bool:
        return self.response is not None
