"""Checks made in code, not by the judge: citations, spec leaks, format.

They are cheap, deterministic and cannot be talked out of their verdict, so they guard what a
judge model might miss: invented rule ids, a chain of thought that leans on a spec the student
will never see, an empty answer.
"""

from __future__ import annotations

import re

from deliberate.llm.types import ReasoningFormat
from deliberate.records.checks import Checks, CitationCheck, FormatCheck, LeakCheck
from deliberate.records.modes import NONE_CATEGORY
from deliberate.spec.model import Spec

_CITATION = re.compile(
    r"(?<![\w./-])((?:(?:style|def)\.[a-z][a-z0-9_]*)|(?:[a-z][a-z_]*\.[1-9][0-9]*))(?![\w/-]|\.\d)"
)
_SPEC_REFERENCE = re.compile(
    r"\b(?:the|this|that|your)\s+(?:safety\s+)?(?:spec|specification|policy|policies|guidelines?|"
    r"rules?)\s+(?:above|below|provided|given|shown|you\s+(?:gave|provided|shared))\b"
    r"|\b(?:provided|given|above|attached)\s+(?:safety\s+)?(?:spec|specification|policy|excerpt)\b"
    r"|\bas\s+(?:stated|written|shown|quoted)\s+above\b",
    re.IGNORECASE,
)
LEAK_QUOTE_WORDS = 12
"""A chain of thought that repeats this many consecutive words of spec text quotes it verbatim."""


def cited_ids(text: str) -> list[str]:
    """Citable-id-like tokens (``violence.2``, ``style.refusal``, ``def.minor``), in order of
    first mention."""
    return list(dict.fromkeys(m.group(1) for m in _CITATION.finditer(text or "")))


def check_citations(reasoning: str | None, spec: Spec, categories: list[str] | None) -> CitationCheck:
    """Every cited id exists; at least one belongs to the prompt's category (style for ``none``).

    Definitions (``def.<term>``) are valid citations but never fit a category on their own: a
    chain of thought must still cite the rule (or style guideline) that decides the request.
    """
    cited = cited_ids(reasoning or "")
    unknown = [c for c in cited if c not in spec.rules_by_id]
    cats = [c for c in (categories or [NONE_CATEGORY]) if c != NONE_CATEGORY]
    prefixes = set(cats) if cats else {"style"}
    fits = any(c.rsplit(".", 1)[0] in prefixes for c in cited if c not in unknown)
    return CitationCheck(cited=cited, unknown=unknown, fits_category=fits,
                         valid=bool(cited) and not unknown and fits)


def check_leak(reasoning: str | None, spec: Spec, *, quote_words: int = LEAK_QUOTE_WORDS) -> LeakCheck:
    """Flag references to a spec "above/provided" and long verbatim quotes of spec text."""
    text = reasoning or ""
    references = [m.group(0) for m in _SPEC_REFERENCE.finditer(text)]
    shingles = _spec_shingles(spec.content_hash, spec, quote_words)
    longest = _longest_shared_run(_words(text), shingles, quote_words)
    return LeakCheck(references=references, longest_quote=longest,
                     leaked=bool(references) or longest >= quote_words)


def check_format(reasoning: str | None, answer: str, fmt: ReasoningFormat) -> FormatCheck:
    """Non-empty reasoning and answer, reasoning properly closed."""
    if fmt == ReasoningFormat.unclosed:
        return FormatCheck(ok=False, reason="reasoning block never closed")
    if not (reasoning or "").strip():
        return FormatCheck(ok=False, reason="empty reasoning")
    if not answer.strip():
        return FormatCheck(ok=False, reason="empty answer")
    return FormatCheck(ok=True)


def run_checks(reasoning: str | None, answer: str, fmt: ReasoningFormat, spec: Spec,
               categories: list[str] | None) -> Checks:
    return Checks(
        citation=check_citations(reasoning, spec, categories),
        leak=check_leak(reasoning, spec),
        format=check_format(reasoning, answer, fmt),
    )


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


_SHINGLES: dict[tuple[str, int], frozenset[tuple[str, ...]]] = {}


def _spec_shingles(spec_hash: str, spec: Spec, n: int) -> frozenset[tuple[str, ...]]:
    """All n-word windows of the spec's prose, cached per spec content hash."""
    if (spec_hash, n) in _SHINGLES:
        return _SHINGLES[(spec_hash, n)]
    texts = [spec.preamble, *(s.text for s in spec.style_guidelines)]
    texts += [d.text for d in spec.definitions]
    texts += [t for c in spec.categories for r in c.rules for t in (r.text, r.operator_note) if t]
    texts += [t for c in spec.categories if c.summary
              for t in (c.summary.covers, c.summary.allowed, c.summary.disallowed)]
    shingles: set[tuple[str, ...]] = set()
    for text in texts:
        words = _words(text)
        shingles.update(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    _SHINGLES[(spec_hash, n)] = frozenset(shingles)
    return _SHINGLES[(spec_hash, n)]


def _longest_shared_run(words: list[str], shingles: frozenset[tuple[str, ...]], n: int) -> int:
    """Length of the longest run of words covered by consecutive spec shingles (0 if < n)."""
    best = run = 0
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) in shingles:
            run = run + 1 if run else n
            best = max(best, run)
        else:
            run = 0
    return best
