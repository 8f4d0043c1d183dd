"""One answer's grading inside inspect: the project's prompts and parsers, inspect's models.

The same grader messages as ``deliberate eval`` (:func:`~deliberate.evals.refusal_llm.
refusal_grader_messages`, :func:`~deliberate.evals.strongreject.rubric.rubric_messages`,
:func:`~deliberate.judge.judge.judge_messages`) and the same parsers; a reply that does not
parse is re-asked (:data:`ATTEMPTS` in all), then reported, never scored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from inspect_ai.model import (
    ChatMessageSystem,
    ChatMessageUser,
    ContentReasoning,
    GenerateConfig,
    Model,
    ModelOutput,
    get_model,
    model_roles,
)

from deliberate.llm.types import ChatMessage, ModelResponse

T = TypeVar("T")
ATTEMPTS = 3
_LOCAL_GRADER = threading.Lock()  # one thread at a time in the no-API grader (it loads once)


def grader_model(grader: str | Model | None) -> Model | None:
    """The grader: the one named, else the ``grader`` model role, else None (no LLM grading)."""
    if grader is not None:
        return get_model(grader)
    return get_model(role="grader") if model_roles().get("grader") else None


def to_inspect(messages: list[ChatMessage]) -> list[ChatMessageSystem | ChatMessageUser]:
    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser}
    return [kinds[m.role](content=m.content) for m in messages]


async def ask_parsed(model: Model, messages: list[ChatMessage],
                     parse: Callable[[ModelResponse], T], *, temperature: float,
                     max_tokens: int) -> tuple[T | None, str | None]:
    """(value, None), or (None, why) when no reply parsed in :data:`ATTEMPTS` asks."""
    config = GenerateConfig(temperature=temperature, max_tokens=max_tokens)
    error = "not asked"
    for attempt in range(1, ATTEMPTS + 1):
        output = await model.generate(to_inspect(messages), config=config)
        try:
            return parse(ModelResponse(content=output.completion)), None
        except ValueError as exc:
            error = f"unparsable reply: {exc} (after {attempt} attempts)"
    return None, error


def answer_and_reasoning(output: ModelOutput) -> tuple[str, str | None]:
    """The final answer graders see, and the reasoning (kept for the citation check only)."""
    from deliberate.llm.reasoning import split_reasoning

    reasoning = None
    if output.choices and isinstance(output.message.content, list):
        parts = [c.reasoning for c in output.message.content
                 if isinstance(c, ContentReasoning) and not c.redacted]
        reasoning = "\n".join(parts) or None
    split = split_reasoning(output.completion, reasoning)
    return split.content, split.reasoning


async def refusal_label(prompt: str, answer: str, grader: Model | None,
                        method: str) -> tuple[str | None, str | None, str]:
    """(label, error, grader used): the LLM grader if there is one, else the no-API grader."""
    if grader is None:
        import anyio

        return await anyio.to_thread.run_sync(_local_label, prompt, answer, method)
    from deliberate.evals.refusal_llm import GRADER_MAX_TOKENS, parse_label, refusal_grader_messages

    label, error = await ask_parsed(grader, refusal_grader_messages(prompt, answer), parse_label,
                                    temperature=0.0, max_tokens=GRADER_MAX_TOKENS)
    return label, error, f"llm:{grader}"


def _local_label(prompt: str, answer: str, method: str) -> tuple[str, None, str]:
    from deliberate.evals.grading import local_grader

    with _LOCAL_GRADER:
        grader = local_grader(method)
        return str(grader.grade([prompt], [answer])[0]), None, grader.method_used


async def rubric(prompt: str, answer: str, grader: Model,
                 assets: str | Path | None) -> tuple[Any, str | None]:
    """The StrongREJECT rubric (a :class:`Rubric`) of one answer to a forbidden prompt."""
    from deliberate.evals.strongreject.rubric import (
        RUBRIC_MAX_TOKENS,
        parse_rubric_response,
        rubric_messages,
    )

    return await ask_parsed(grader, rubric_messages(prompt, answer, assets), parse_rubric_response,
                            temperature=0.0, max_tokens=RUBRIC_MAX_TOKENS)


async def judge(prompt: str, answer: str, categories: list[str], spec: Any, grader: Model,
                k: int, expected_mode: str | None = None) -> tuple[float | None, list[str], list[Any]]:
    """The spec judge on the answer only: the minimum of ``k`` judgments (None if any failed),
    the errors and the verdicts; ``expected_mode`` is shown to the judge as advisory."""
    from deliberate.judge.judge import JUDGE_SAMPLING, JudgeInput, judge_messages
    from deliberate.judge.score import min_of_k, parse_verdict
    from deliberate.records.generation import mode_or_none

    item = JudgeInput("item", [ChatMessage(role="user", content=prompt)], categories, None, answer,
                      mode_or_none(expected_mode))
    messages = judge_messages(item, spec, answer_only=True)
    asked = [await ask_parsed(grader, messages, parse_verdict,
                              temperature=JUDGE_SAMPLING.temperature,
                              max_tokens=JUDGE_SAMPLING.max_tokens) for _ in range(k)]
    errors = [error or "" for verdict, error in asked if verdict is None]
    verdicts = [v for v, _ in asked if v is not None]
    return min_of_k(verdicts, errors), errors, verdicts
