"""Results of the checks made in code on a chain of thought (see :mod:`deliberate.spec.checks`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CitationCheck(BaseModel):
    cited: list[str] = Field(default_factory=list, description="Rule ids cited, in order, unique.")
    unknown: list[str] = Field(default_factory=list, description="Cited ids the spec lacks.")
    fits_category: bool = Field(description="A cited id belongs to the prompt's category.")
    valid: bool = Field(description="Something cited, nothing invented, and it fits the category.")


class LeakCheck(BaseModel):
    references: list[str] = Field(default_factory=list, description="Phrases that point at a spec in context.")
    longest_quote: int = Field(default=0, description="Longest run of words copied from the spec.")
    leaked: bool


class FormatCheck(BaseModel):
    ok: bool
    reason: str | None = None


class Checks(BaseModel):
    citation: CitationCheck
    leak: LeakCheck
    format: FormatCheck
