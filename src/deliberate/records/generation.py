"""Records of the data stages: teacher generations, judge verdicts, SFT examples."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from deliberate.llm.types import ChatMessage, ReasoningFormat, SamplingConfig, Usage
from deliberate.records.checks import Checks
from deliberate.records.modes import ResponseMode

SUGGESTED_MODE = "suggested_mode"
"""Metadata key of the response mode a labeler suggested (see ``deliberate label``)."""


class GenerationRecord(BaseModel):
    """A teacher's chain of thought and answer for one prompt, with full provenance."""

    prompt_id: str
    sample_index: int
    messages: list[ChatMessage] = Field(description="The conversation the teacher answered, "
                                        "operator (system, developer) turns included; no spec.")
    category: list[str] = Field(description="Categories whose excerpts the teacher saw.")
    expected_mode: ResponseMode | None = Field(default=None, description="Mode known for the "
                                               "prompt (labels, seeds, user data).")
    spec_name: str
    spec_version: str
    excerpt_hash: str = Field(description="Hash of the spec excerpt in the teacher's context.")
    teacher: str = Field(description="Teacher model ref.")
    template_hash: str = Field(description="Hash of the generation prompt template.")
    sampling: SamplingConfig
    reasoning: str | None
    answer: str
    reasoning_format: ReasoningFormat
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = Field(default=None, description="Why the teacher stopped: stop, "
                                      "or length when it hit max_tokens (a likely cut-off reply).")
    checks: Checks = Field(description="Citation, spec-leak and format checks (in code).")
    declared_mode: ResponseMode | None = Field(
        default=None, description="Mode the teacher's reasoning declared ('Response mode: refuse'), "
        "parsed in code; None when it declared none.")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.prompt_id}#{self.sample_index}"

    @property
    def known_mode(self) -> ResponseMode | None:
        """The mode expected before judging: ``expected_mode``, else the labeler's suggestion."""
        return self.expected_mode or mode_or_none(self.metadata.get(SUGGESTED_MODE))


def mode_or_none(value: object) -> ResponseMode | None:
    """``value`` as a response mode (any spelling :class:`ResponseMode` accepts), else None."""
    try:
        return ResponseMode(value) if value is not None else None
    except (ValueError, TypeError):
        return None


SCORE_MIN, SCORE_MAX = 0.0, 10.0
"""The judge's scale. Every score in a verdict or a judged record lies in it; see judge.score."""

Score = Annotated[float, Field(ge=SCORE_MIN, le=SCORE_MAX)]


class Verdict(BaseModel):
    """One judgment parsed from the judge's own reply."""

    model_config = {"extra": "allow"}

    score: Score = Field(description="Overall adherence on the judge's 0-10 scale.")
    criteria: dict[str, Score] = Field(default_factory=dict, description="Per-criterion scores.")
    expected_mode: ResponseMode | None = Field(default=None, description="Mode the judge expects.")
    rationale: str | None = None


class JudgedRecord(BaseModel):
    """A generation with k verdicts; ``score`` is their minimum, ``None`` if any judgment failed."""

    generation: GenerationRecord
    judge: str = Field(description="Judge model ref.")
    judge_template_hash: str
    answer_only: bool = Field(description="The judge did not see the chain of thought.")
    verdicts: list[Verdict] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list, description="Judgments that failed, and why.")
    score: Score | None = Field(default=None, description="min over verdicts; None if incomplete.")


class SFTExample(BaseModel):
    """A chat-format training example: the conversation (operator system and developer turns
    included, as the deployment would send them) and the assistant's reasoning + answer.

    Deliberately carries no spec text and no system prompt about the spec: the student must
    learn to recall the policy, not read it.
    """

    messages: list[dict[str, Any]]
    prompt_id: str
    sample_index: int
    category: list[str]
    score: float | None = None
    spec_name: str
    spec_version: str
