"""``spec lint``: what a spec author should fix before the spec trains anything.

A spec can be valid and still weak: a category with nothing allowed teaches over-refusal, a rule
no example exercises has never been checked against a concrete prompt, an example without a
reference answer leaves the style implicit, a category without a borderline pair never shows
where its line falls, and a definition no rule uses is dead weight in every excerpt. Lint reports
those, plus the size of every excerpt a teacher or judge will read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deliberate.records.modes import NONE_CATEGORY, ResponseMode
from deliberate.spec.elements import Category
from deliberate.spec.model import Spec

WORDS_TO_TOKENS = 1.3
"""Approximate tokens per word: English prose in common BPE tokenizers runs at ~1.3."""
TOKENS_METHOD = "approximate: whitespace-separated words of the rendered excerpt x 1.3"
_ALLOWED = {ResponseMode.comply, ResponseMode.safe_complete}


@dataclass(frozen=True)
class Finding:
    """One thing to fix: a kind (stable, for scripts), where it is, and a sentence."""

    kind: str
    where: str
    message: str


@dataclass(frozen=True)
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    excerpt_tokens: dict[str, int] = field(default_factory=dict)
    """Approximate token count of each category's excerpt, and of ``none``'s."""

    @property
    def clean(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, object]:
        return {"clean": self.clean, "tokens_method": TOKENS_METHOD,
                "findings": [vars(f) for f in self.findings], "excerpt_tokens": self.excerpt_tokens}


def approx_tokens(text: str) -> int:
    """Token count estimate: words (split on whitespace) x 1.3, rounded."""
    return round(len(text.split()) * WORDS_TO_TOKENS)


def lint_spec(spec: Spec, *, max_excerpt_tokens: int | None = None) -> LintReport:
    """Every finding for ``spec``, and each excerpt's approximate size.

    ``max_excerpt_tokens`` makes an excerpt over that size a finding too.
    """
    findings: list[Finding] = []
    for category in spec.categories:
        findings += category_findings(category)
    findings += unused_definition_findings(spec)
    tokens = {cid: approx_tokens(spec.for_category(cid)) for cid in [*spec.category_ids, NONE_CATEGORY]}
    if max_excerpt_tokens is not None:
        findings += [Finding("excerpt_too_long", cid, f"excerpt is ~{n} tokens, over the "
                             f"{max_excerpt_tokens} allowed") for cid, n in tokens.items()
                     if n > max_excerpt_tokens]
    return LintReport(findings=findings, excerpt_tokens=tokens)


def category_findings(category: Category) -> list[Finding]:
    """Allowed rule, summary, examples, exercised rules, reference answers, borderline pair."""
    cid, out = category.id, []
    if not any(r.mode in _ALLOWED for r in category.rules):
        out.append(Finding("no_allowed_rule", cid, "no comply or safe_complete rule: the category "
                           "allows nothing, which teaches over-refusal"))
    if category.summary is None:
        out.append(Finding("no_summary", cid, "no summary (covers, allowed, disallowed); excerpts "
                           "fall back to the description"))
    if not category.examples:
        out.append(Finding("no_examples", cid, "no examples"))
    exercised = {e.rule for e in category.examples if e.rule}
    out += [Finding("rule_unexercised", r.id, "no example exercises this rule")
            for r in category.rules if r.id not in exercised]
    out += _example_findings(category)
    if category.examples and not category.pairs:
        out.append(Finding("no_pair", cid, "no borderline pair (two look-alike examples with a "
                           "shared 'pair' id and different modes)"))
    return out


def _example_findings(category: Category) -> list[Finding]:
    rules = {r.id: r for r in category.rules}
    out = []
    for i, example in enumerate(category.examples, start=1):
        where = f"{category.id} example {i}"
        if not example.reference_answer:
            out.append(Finding("no_reference_answer", where, "example has no reference_answer"))
        rule = rules.get(example.rule or "")
        if rule is not None and rule.mode is not example.mode:
            out.append(Finding("example_mode_mismatch", where, f"example expects "
                               f"{example.mode.value} but {rule.id} says {rule.mode.value}"))
    return out


def unused_definition_findings(spec: Spec) -> list[Finding]:
    """Definitions that no rule mentions, by id (``def.minor``) or by term ("minor", "minors")."""
    texts = [t for c in spec.categories for r in c.rules for t in (r.text, r.operator_note) if t]
    return [Finding("definition_unused", d.id, f"no rule uses the term '{d.term}' or cites {d.id}")
            for d in spec.definitions if not any(mentions(t, d.id, d.term) for t in texts)]


def mentions(text: str, definition_id: str, term: str) -> bool:
    """``text`` cites ``definition_id`` or uses ``term`` (case-insensitive, plural allowed)."""
    if re.search(rf"(?<![\w.]){re.escape(definition_id)}(?![\w])", text):
        return True
    words = r"\s+".join(re.escape(w) for w in term.split())
    return re.search(rf"(?<![\w-]){words}(?:s|es)?(?![\w-])", text, re.IGNORECASE) is not None
