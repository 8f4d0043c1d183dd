"""Results of the checks made in code on a chain of thought (see :mod:`deliberate.spec.checks`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CitationCheck(BaseModel):
    cited: list[str] = Field(default_factory=list, description="Rule ids cited, in order, unique.")
    unknown: list[str] = Field(default_factory=list, description="Cited ids the spec lacks.")
    fits_category: bool = Field(description="A cited id belongs to the prompt's category.")
    valid: bool = Field(description="Something cited, nothing invented, and it fits the category.")


class LeakCheck(BaseModel):
    """Does the chain of thought lean on a spec in its context? Quoting rules from memory is
    allowed (the paper's chains of thought quote the policy); pointing at a document "above" is
    not, because the student will never see one. Verbatim overlap is reported as statistics and
    fails the check only under ``strict_quotes``."""

    references: list[str] = Field(default_factory=list, description="Phrases that point at a spec in context.")
    longest_quote: int = Field(default=0, description="Longest run of words copied from the spec "
                               "(0 when under the shortest run counted).")
    quoted_share: float = Field(default=0.0, ge=0.0, le=1.0, description="Share of the chain of "
                                "thought's words inside runs copied from the spec.")
    strict_quotes: bool = Field(default=False, description="A long verbatim run counted as a leak.")
    leaked: bool


class FormatCheck(BaseModel):
    ok: bool
    reason: str | None = None


class Checks(BaseModel):
    citation: CitationCheck
    leak: LeakCheck
    format: FormatCheck
