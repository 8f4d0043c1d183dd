"""One entry point for refusal labels: the no-API grader, or an LLM grader when one is named."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from deliberate.llm import BackendOptions


class RefusalGrades(NamedTuple):
    labels: list[str | None]
    errors: list[str | None]
    method: str


@lru_cache(maxsize=4)
def local_grader(method: str = "auto") -> Any:
    """One no-API grader per method and process (its embedding model loads once)."""
    from deliberate.evals.refusal import RefusalGrader

    return RefusalGrader(method=method)


def grade_refusals(
    prompts: Sequence[str], responses: Sequence[str], *, grader: str | Any | None = None,
    method: str = "auto", options: BackendOptions | None = None,
) -> RefusalGrades:
    """Refusal labels for (prompt, response) pairs; ``grader`` switches to the LLM mode."""
    if grader is not None:
        from deliberate.evals.refusal_llm import grade_refusal_llm

        pairs = grade_refusal_llm(prompts, responses, grader, options)
        ref = grader if isinstance(grader, str) else grader.ref
        return RefusalGrades([p[0] for p in pairs], [p[1] for p in pairs], f"llm:{ref}")
    local = local_grader(method)
    labels = [str(label.value) for label in local.grade(list(prompts), list(responses))]
    return RefusalGrades(labels, [None] * len(labels), local.method_used)
