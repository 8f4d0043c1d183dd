"""The prompt record: the input of labelling, generation and evaluation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deliberate.llm.types import ChatMessage
from deliberate.records.modes import ResponseMode


class PromptRecord(BaseModel):
    """A prompt to label, answer or evaluate.

    Either ``prompt`` (a single user turn) or ``messages`` (a whole conversation ending with a
    user turn) is given. ``category`` accepts a single id or a list and is stored as a list:
    a prompt can touch several categories; ``["none"]`` marks a benign prompt.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Stable id, unique within a file.")
    prompt: str | None = Field(default=None, description="Text of a single user turn.")
    messages: list[ChatMessage] | None = Field(default=None, description="A full conversation.")
    category: list[str] | None = Field(default=None, description="Spec category ids, or ['none'].")
    source: str | None = Field(default=None, description="Where the prompt came from.")
    expected_mode: ResponseMode | None = Field(
        default=None, description="Response mode the spec calls for, where known."
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form extra fields.")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("category", mode="before")
    @classmethod
    def _category_as_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [value] if value.strip() else None
        if isinstance(value, list) and not value:
            return None
        return value

    @model_validator(mode="after")
    def _has_text(self) -> PromptRecord:
        if self.prompt is None and not self.messages:
            raise ValueError("needs a 'prompt' (text) or 'messages' field")
        if self.prompt is not None and not self.prompt.strip():
            raise ValueError("'prompt' is empty")
        return self

    def as_messages(self) -> list[ChatMessage]:
        """The conversation to send to a model."""
        if self.messages:
            return list(self.messages)
        return [ChatMessage(role="user", content=self.prompt or "")]

    @property
    def text(self) -> str:
        """The last user turn: what a labeler classifies and a grader reads."""
        if self.prompt is not None:
            return self.prompt
        users = [m.content for m in self.messages or [] if m.role == "user"]
        return users[-1] if users else ""
