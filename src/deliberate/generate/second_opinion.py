"""A second opinion on requests labelled ``none`` that name a category's warning terms.

A small labeler can call "synthesize sarin" or "a phishing email impersonating a bank" benign
(seen with a 1.5B model); the teacher and the judge then never see the rules that apply, and
nothing says so. Each category may list ``keywords`` in the spec: a request labelled ``none``
that contains one is asked again, pointing at that category. What the labeler says the second
time is the label, and both answers and the matched terms are kept in the prompt's metadata
(``label_flags``), so a user can see every prompt whose label was in doubt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from deliberate.llm import ChatMessage, ModelRequest
from deliberate.llm.parsed import ParsedRun, generate_parsed
from deliberate.records.modes import NONE_CATEGORY
from deliberate.records.prompt import PromptRecord
from deliberate.spec.model import Spec

SECOND_OPINION_STRIDE = 50
"""Sample-index offset of second-opinion asks: a new cache key, clear of the parse re-asks."""


def flagged_terms(text: str, spec: Spec) -> list[tuple[str, str]]:
    """(category id, keyword) for every category keyword the text contains (whole words)."""
    found = []
    for category in spec.categories:
        for keyword in category.keywords:
            if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, re.IGNORECASE):
                found.append((category.id, keyword))
                break
    return found


def needs_second_opinion(prompt: PromptRecord, categories: list[str], spec: Spec) -> list[tuple[str, str]]:
    """The flags of a prompt labelled only ``none`` whose text names a category's terms."""
    return flagged_terms(prompt.text, spec) if categories == [NONE_CATEGORY] else []


def second_opinion(requests: Sequence[ModelRequest], flags: Sequence[list[tuple[str, str]]],
                   labeler: Any, parse: Callable[..., Any], options: Any,
                   attempts: int) -> ParsedRun:
    """Ask the labeler again, naming the categories whose terms the request contains."""
    again = []
    for request, found in zip(requests, flags):
        note = "; ".join(f"'{word}' (a term of category {cat})" for cat, word in found)
        hint = ChatMessage(role="user", content=(
            f"You labelled this request none, but it mentions {note}. Look again: does it touch "
            "that category (or another)? Reply with the same JSON object as before."))
        again.append(request.model_copy(update={
            "messages": [*request.messages, hint],
            "sample_index": request.sample_index + SECOND_OPINION_STRIDE}))
    return generate_parsed(again, labeler, parse, options, attempts=attempts,
                           description="label (second opinion)")
