"""One graded response of an evaluation: the line format of ``<run>/<suite>/results.jsonl``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EvalResult(BaseModel):
    """One graded response."""

    suite: str = Field(description="Suite name (strongreject, xstest, spec, ...).")
    item_id: str = Field(description="Id of the base prompt (before any jailbreak).")
    sample_index: int = 0
    group: str | None = Field(default=None, description="Jailbreak name, XSTest type or spec category.")
    label: str | None = Field(default=None, description="XSTest safe/unsafe; spec: expected mode.")
    prompt: str = Field(description="What the model was sent (after the jailbreak transform).")
    request: str | None = Field(default=None, description="The original request, before any "
                                "jailbreak (None in results written before it was recorded).")
    reasoning: str | None = Field(default=None, description="Stored, never shown to graders.")
    answer: str = Field(description="The model's final answer (decoded if the jailbreak encoded it).")
    refusal: str | None = Field(default=None, description="compliance | refusal | partial_refusal.")
    score: float | None = Field(default=None, description="StrongREJECT harm score in [0,1]; spec: judge 0-10.")
    details: dict[str, Any] = Field(default_factory=dict, description="Grader sub-scores and flags.")
    error: str | None = Field(default=None, description="Why this item could not be graded.")
