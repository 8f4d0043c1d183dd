"""Refusal grading with an LLM (``--grader MODEL``): the XSTest three-way scheme, as JSON.

The no-API grader in :mod:`deliberate.evals.refusal` is the default; this mode is for users who
have a strong model at hand and want a second opinion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deliberate.llm import BackendOptions, ModelRequest, ModelResponse, SamplingConfig
from deliberate.llm.parsed import extract_json_object, generate_parsed
from deliberate.llm.types import ChatMessage
from deliberate.prompts import load_template

LABELS = ("compliance", "refusal", "partial_refusal")
GRADER_MAX_TOKENS = 64


def parse_label(response: ModelResponse) -> str:
    label = str(extract_json_object(response.content, "label")["label"]).strip().lower()
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}")
    return label


def refusal_grader_messages(prompt: str, response: str) -> list[ChatMessage]:
    """The grader's messages for one (request, response) pair."""
    text = load_template("refusal_grader").render(prompt=prompt, response=response)
    return [ChatMessage(role="user", content=text)]


def grade_refusal_llm(
    prompts: Sequence[str], responses: Sequence[str], grader: str | Any,
    options: BackendOptions | None = None,
) -> list[tuple[str | None, str | None]]:
    """(label, error) per pair; unparsable replies are re-asked, then reported."""
    requests = [
        ModelRequest(id=f"g{i}", config=SamplingConfig(temperature=0.0, max_tokens=GRADER_MAX_TOKENS),
                     messages=refusal_grader_messages(p, r))
        for i, (p, r) in enumerate(zip(prompts, responses))
    ]
    run = generate_parsed(requests, grader, parse_label, options, description="grade refusal")
    return [(p.value, p.error) for p in run.results]
