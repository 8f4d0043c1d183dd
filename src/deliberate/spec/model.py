"""The safety spec as a validated pydantic model.

A spec is what the teacher reasons over, what the judge grades against and what the student must
learn to recall. Rules carry stable ids (``violence.2``) so that a chain of thought can cite them
and code can check the citations.
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deliberate.records.modes import NONE_CATEGORY, ResponseMode

CATEGORY_ID = r"^[a-z][a-z0-9_]*$"
STYLE_ID = r"^style\.[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class StyleGuideline(_Strict):
    """How responses of one kind read (refusal, safe completion, compliance...)."""

    id: str = Field(pattern=STYLE_ID, description="Citable id, e.g. `style.refusal`.")
    title: str = Field(min_length=1, description="Short human title.")
    text: str = Field(min_length=1, description="The guideline, Markdown allowed.")


class Rule(_Strict):
    """One numbered, citable rule of a content category."""

    id: str = Field(description="`<category>.<n>`, e.g. `violence.2`.")
    mode: ResponseMode = Field(description="Response mode this rule calls for.")
    text: str = Field(min_length=1, description="The rule itself, Markdown allowed.")


class Example(_Strict):
    """A worked example: a prompt and the response mode the spec expects for it."""

    prompt: str = Field(min_length=1)
    mode: ResponseMode
    rule: str | None = Field(default=None, description="Id of the rule that decides it.")


class Category(_Strict):
    """A content category with its rules; `description` is what a labeler classifies by."""

    id: str = Field(pattern=CATEGORY_ID, description="snake_case id, e.g. `self_harm`.")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    rules: list[Rule] = Field(description="Numbered rules; at least one.")
    examples: list[Example] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == NONE_CATEGORY:
            raise ValueError(f"'{NONE_CATEGORY}' is reserved for prompts outside every category")
        return value

    @model_validator(mode="after")
    def _check_rules(self) -> Category:
        if not self.rules:
            raise ValueError(f"category '{self.id}' has no rules")
        pattern = re.compile(rf"^{re.escape(self.id)}\.[1-9][0-9]*$")
        seen: set[str] = set()
        for rule in self.rules:
            if not pattern.match(rule.id):
                raise ValueError(
                    f"rule id '{rule.id}' must look like '{self.id}.<n>' (category '{self.id}')"
                )
            if rule.id in seen:
                raise ValueError(f"duplicate rule id '{rule.id}' in category '{self.id}'")
            seen.add(rule.id)
        for example in self.examples:
            if example.rule is not None and example.rule not in seen:
                raise ValueError(
                    f"example cites unknown rule '{example.rule}' in category '{self.id}'"
                )
        return self


class Spec(_Strict):
    """A complete safety spec: metadata, general preamble, style guidelines and categories."""

    name: str = Field(min_length=1, description="Short identifier of the policy.")
    version: str = Field(min_length=1, description="Version string, recorded in every output.")
    description: str = Field(min_length=1, description="What this policy is for.")
    preamble: str = Field(default="", description="General principles, shown in every excerpt.")
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
        """Every citable id (rules and style guidelines) mapped to its rule.

        Style guidelines appear as rules with mode ``comply`` so that citation checks can treat
        ``style.refusal`` like any rule id.
        """
        table: dict[str, Rule] = {}
        for style in self.style_guidelines:
            table[style.id] = Rule(id=style.id, mode=ResponseMode.comply, text=style.text)
        for category in self.categories:
            for rule in category.rules:
                table[rule.id] = rule
        return table

    # -- rendering -----------------------------------------------------------------------------

    def render(self) -> str:
        """The whole spec as Markdown."""
        from deliberate.spec.render import render_spec

        return render_spec(self)

    def for_category(self, category_id: str) -> str:
        """The category-specific excerpt: preamble + style guidelines + that category's rules.

        ``"none"`` gives the preamble and the style guidelines only.
        """
        return self.for_categories([category_id])

    def for_categories(self, category_ids: list[str]) -> str:
        """Excerpt for a prompt touching several categories: shared parts once, then each one."""
        from deliberate.spec.render import render_excerpt

        return render_excerpt(self, category_ids or [NONE_CATEGORY])

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
