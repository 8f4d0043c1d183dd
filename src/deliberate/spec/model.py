"""The safety spec as a validated pydantic model.

A spec is what the teacher reasons over, what the judge grades against and what the student must
learn to recall. Rules carry stable ids (``violence.2``) so that a chain of thought can cite them
and code can check the citations.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Literal

from pydantic import Field, field_validator, model_validator

from deliberate.records.modes import NONE_CATEGORY, ResponseMode
from deliberate.spec.elements import (
    Category,
    CategorySummary,
    Definition,
    Example,
    Rule,
    Severity,
    StyleGuideline,
    _Strict,
)

__all__ = [
    "NONE_CATEGORY", "Category", "CategorySummary", "Definition", "Example", "ResponseMode", "Rule",
    "Severity", "Spec", "StyleGuideline", "content_hash",
]
"""Format 1: the original fields. Format 2 adds definitions, category summaries (required),
reference answers, borderline pairs, severity and operator-configurable rules."""


class Spec(_Strict):
    """A complete safety spec: metadata, general preamble, style guidelines and categories."""

    name: str = Field(min_length=1, description="Short identifier of the policy.")
    version: str = Field(min_length=1, description="Version string, recorded in every output.")
    spec_format: Literal[1, 2] = Field(default=1, description="Spec file format: 1 (default) or 2.")
    description: str = Field(min_length=1, description="What this policy is for.")
    preamble: str = Field(default="", description="General principles, shown in every excerpt.")
    definitions: list[Definition] = Field(
        default_factory=list, description="Terms the rules turn on, shown in every excerpt.")
    style_guidelines: list[StyleGuideline] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        # YAML reads `version: 1.0` as a float; a version is text.
        return str(value) if isinstance(value, (int, float)) else value

    @model_validator(mode="after")
    def _unique_ids(self) -> Spec:
        _require_unique([c.id for c in self.categories], "category id")
        _require_unique([s.id for s in self.style_guidelines], "style guideline id")
        _require_unique([d.id for d in self.definitions], "definition id")
        if self.spec_format >= 2:
            missing = [c.id for c in self.categories if c.summary is None]
            if missing:
                raise ValueError(f"spec_format 2 needs a summary (covers, allowed, disallowed) "
                                 f"for every category; missing: {', '.join(missing)}")
        return self

    # -- lookups -------------------------------------------------------------------------------

    @property
    def category_ids(self) -> list[str]:
        return [c.id for c in self.categories]

    def category(self, category_id: str) -> Category:
        """The category with this id; a clear error lists the valid ones."""
        for category in self.categories:
            if category.id == category_id:
                return category
        known = ", ".join(self.category_ids)
        raise KeyError(f"unknown category '{category_id}' (spec '{self.name}' has: {known})")

    @cached_property
    def rules_by_id(self) -> dict[str, Rule]:
        """Every citable id (rules, style guidelines, definitions) mapped to its rule.

        Style guidelines and definitions appear as rules with mode ``comply`` so that citation
        checks can treat ``style.refusal`` and ``def.minor`` like any rule id; only category rules
        carry a mode that decides anything (see :attr:`category_rules`).
        """
        table: dict[str, Rule] = {}
        for style in self.style_guidelines:
            table[style.id] = Rule(id=style.id, mode=ResponseMode.comply, text=style.text)
        for definition in self.definitions:
            table[definition.id] = Rule(id=definition.id, mode=ResponseMode.comply, text=definition.text)
        for category in self.categories:
            for rule in category.rules:
                table[rule.id] = rule
        return table

    @cached_property
    def category_rules(self) -> dict[str, Rule]:
        """The rules of the categories only (no style guidelines, no definitions)."""
        return {r.id: r for c in self.categories for r in c.rules}

    @cached_property
    def definitions_by_id(self) -> dict[str, Definition]:
        return {d.id: d for d in self.definitions}

    # -- rendering -----------------------------------------------------------------------------

    def render(self) -> str:
        """The whole spec as Markdown (rendered once: a spec is not changed after loading, and
        the data stages ask for it, or its hash, for every record)."""
        return self.rendered

    @cached_property
    def rendered(self) -> str:
        from deliberate.spec.render import render_spec

        return render_spec(self)

    @cached_property
    def excerpts(self) -> dict[tuple[str, ...], str]:
        """Excerpts rendered so far, by category ids (see :meth:`for_categories`)."""
        return {}

    def for_category(self, category_id: str) -> str:
        """spec(category), as in the paper: the shared parts (preamble, definitions, style
        guidelines), a short summary of every category, then that category's rules and examples.

        ``"none"`` gives the shared parts and the summaries, without any full category section.
        """
        return self.for_categories([category_id])

    def for_categories(self, category_ids: list[str]) -> str:
        """Excerpt for a prompt touching several categories: shared parts and summaries once,
        then the full section of each one."""
        from deliberate.spec.render import render_excerpt

        key = tuple(category_ids or [NONE_CATEGORY])
        if key not in self.excerpts:
            self.excerpts[key] = render_excerpt(self, list(key))
        return self.excerpts[key]

    def excerpt_hash(self, category_id: str | list[str]) -> str:
        """Content hash of the excerpt; changes only when that excerpt does."""
        ids = [category_id] if isinstance(category_id, str) else category_id
        return content_hash(self.for_categories(ids))

    def excerpt_hashes(self) -> dict[str, str]:
        """Excerpt hash for every category and for ``none``."""
        ids = [*self.category_ids, NONE_CATEGORY]
        return {cid: self.excerpt_hash(cid) for cid in ids}

    @property
    def content_hash(self) -> str:
        """Hash of the whole rendered spec."""
        return content_hash(self.render())


def content_hash(text: str) -> str:
    """Short, stable SHA-256 digest of a text (16 hex chars)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _require_unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {what} '{item}'")
        seen.add(item)
