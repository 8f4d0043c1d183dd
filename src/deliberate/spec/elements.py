"""The parts a spec is made of: style guidelines, definitions, rules, examples, categories.

Every id here is citable in a chain of thought: ``style.refusal``, ``def.meaningful_uplift``,
``violence.2``. Fields added in spec format 2 (definitions, category summaries, reference answers,
borderline pairs, severity, operator-configurable rules) are optional so that format-1 specs load.
"""

from __future__ import annotations

import re
from collections import Counter
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deliberate.records.modes import NONE_CATEGORY, ResponseMode

CATEGORY_ID = r"^[a-z][a-z0-9_]*$"
STYLE_ID = r"^style\.[a-z][a-z0-9_]*$"
DEFINITION_ID = r"^def\.[a-z][a-z0-9_]*$"
PAIR_ID = r"^[a-z0-9][a-z0-9_-]*$"
RESERVED_CATEGORY_IDS = (NONE_CATEGORY, "style", "def")
"""``none`` is the benign pseudo-category; ``style`` and ``def`` prefix other citable ids."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Severity(str, Enum):
    """How much harm the content a rule describes could do; a tier that decides the mode.

    ``critical`` rules guard against mass casualties or the sexual exploitation of children:
    they must refuse and no operator may configure them.
    """

    low = "low"
    elevated = "elevated"
    high = "high"
    critical = "critical"


class StyleGuideline(_Strict):
    """How responses of one kind read (refusal, safe completion, compliance...)."""

    id: str = Field(pattern=STYLE_ID, description="Citable id, e.g. `style.refusal`.")
    title: str = Field(min_length=1, description="Short human title.")
    text: str = Field(min_length=1, description="The guideline, Markdown allowed.")


class Definition(_Strict):
    """A term the rules turn on ("meaningful uplift"), defined once and citable."""

    id: str = Field(pattern=DEFINITION_ID, description="`def.<term>`, e.g. `def.meaningful_uplift`.")
    term: str = Field(min_length=1, description="The term as rules write it, e.g. `meaningful uplift`.")
    text: str = Field(min_length=1, description="The definition, Markdown allowed.")


class Rule(_Strict):
    """One numbered, citable rule of a content category."""

    id: str = Field(description="`<category>.<n>`, e.g. `violence.2`.")
    mode: ResponseMode = Field(description="Response mode this rule calls for.")
    text: str = Field(min_length=1, description="The rule itself, Markdown allowed.")
    severity: Severity | None = Field(default=None, description="Harm tier of what the rule covers.")
    operator_configurable: bool = Field(
        default=False, description="An operator (system) instruction may change this rule's mode.")
    operator_mode: ResponseMode | None = Field(
        default=None, description="The mode when an operator enables the option.")
    operator_note: str | None = Field(
        default=None, description="What the operator instruction changes, and what it does not.")

    @model_validator(mode="after")
    def _check_operator(self) -> Rule:
        has_option = self.operator_mode is not None or self.operator_note is not None
        if self.operator_configurable and (self.operator_mode is None or not self.operator_note):
            raise ValueError(f"rule '{self.id}' is operator_configurable: give operator_mode "
                             "and operator_note (what an operator instruction changes)")
        if has_option and not self.operator_configurable:
            raise ValueError(f"rule '{self.id}' has operator_mode/operator_note but is not "
                             "operator_configurable")
        if self.severity is Severity.critical and self.mode is not ResponseMode.refuse:
            raise ValueError(f"rule '{self.id}' has severity critical: its mode must be refuse")
        if self.severity is Severity.critical and self.operator_configurable:
            raise ValueError(f"rule '{self.id}' has severity critical: no operator may configure it")
        return self


class Example(_Strict):
    """A worked example: a prompt, the expected mode, and (format 2) a model answer."""

    prompt: str = Field(min_length=1)
    mode: ResponseMode
    rule: str | None = Field(default=None, description="Id of the rule that decides it.")
    reference_answer: str | None = Field(
        default=None, description="A short model answer in the spec's style.")
    pair: str | None = Field(
        default=None, pattern=PAIR_ID,
        description="Borderline pair id shared with one look-alike example of a different mode.")


class CategorySummary(_Strict):
    """One sentence each: shown for every category in every excerpt (the paper's spec(category))."""

    covers: str = Field(min_length=1, description="What the category covers.")
    allowed: str = Field(min_length=1, description="What is allowed.")
    disallowed: str = Field(min_length=1, description="What is not (or only in part).")


class Category(_Strict):
    """A content category with its rules; `description` is what a labeler classifies by."""

    id: str = Field(pattern=CATEGORY_ID, description="snake_case id, e.g. `self_harm`.")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    summary: CategorySummary | None = Field(
        default=None, description="Required in format 2; format 1 falls back to the description.")
    rules: list[Rule] = Field(description="Numbered rules; at least one.")
    examples: list[Example] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list, description="Terms that, in a request a "
                                "labeler calls `none`, ask for a second opinion (e.g. sarin).")

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == NONE_CATEGORY:
            raise ValueError(f"'{NONE_CATEGORY}' is reserved for prompts outside every category")
        if value in RESERVED_CATEGORY_IDS:
            raise ValueError(f"'{value}' is reserved (it prefixes {value}.<name> ids)")
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
        _check_pairs(self.id, self.examples)
        return self

    @property
    def pairs(self) -> dict[str, list[Example]]:
        """Borderline pairs: pair id -> its two examples, in spec order."""
        out: dict[str, list[Example]] = {}
        for example in self.examples:
            if example.pair:
                out.setdefault(example.pair, []).append(example)
        return out


def _check_pairs(category_id: str, examples: list[Example]) -> None:
    """A pair id marks exactly two examples of one category, with different modes."""
    counts = Counter(e.pair for e in examples if e.pair)
    for pair, count in counts.items():
        modes = {e.mode for e in examples if e.pair == pair}
        if count != 2:
            raise ValueError(f"pair '{pair}' in category '{category_id}' marks {count} examples; "
                             "a borderline pair is exactly two")
        if len(modes) != 2:
            raise ValueError(f"pair '{pair}' in category '{category_id}': both examples have mode "
                             f"'{modes.pop().value}'; a borderline pair contrasts two modes")
