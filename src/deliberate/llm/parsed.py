"""Structured replies: parse each response, re-ask with a fresh sample when it does not parse.

Labels, judge verdicts and grader rubrics are JSON (or rubric text) parsed from the model's own
reply. A reply that fails to parse is never silently scored: the request is sent again as a new
sample (a different cache key) up to ``attempts`` times, then reported as a failure with the
parser's reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from deliberate.llm import BackendOptions, ModelRequest, ModelResponse, UsageReport, generate

T = TypeVar("T")
RETRY_STRIDE = 1000
"""Parse retries use sample index ``index + RETRY_STRIDE * attempt``: new keys, no collisions."""


class Parsed(NamedTuple, Generic[T]):
    value: T | None
    response: ModelResponse | None
    error: str | None


class ParsedRun(NamedTuple):
    results: list[Parsed[Any]]
    usage: UsageReport


def generate_parsed(
    requests: Sequence[ModelRequest],
    model: str | Any,
    parse: Callable[[ModelResponse], T],
    options: BackendOptions | None = None,
    *,
    attempts: int = 3,
    description: str = "requests",
) -> ParsedRun:
    """Run requests; ``parse`` raises ``ValueError`` on a bad reply, which triggers a re-ask."""
    results: list[Parsed[Any] | None] = [None] * len(requests)
    pending = list(range(len(requests)))
    usage = UsageReport()
    last_error: dict[int, str] = {}
    for attempt in range(attempts):
        if not pending:
            break
        batch = [_retry_request(requests[i], attempt) for i in pending]
        label = description if attempt == 0 else f"{description} (re-ask {attempt})"
        output = generate(batch, model, options, description=label)
        usage = usage.merge(output.usage)
        still: list[int] = []
        for index, result in zip(pending, output.results):
            if result.response is None:
                results[index] = Parsed(None, None, result.error)  # transport failure: final
                continue
            try:
                results[index] = Parsed(parse(result.response), result.response, None)
            except ValueError as exc:
                last_error[index] = f"unparsable reply: {exc}"
                results[index] = Parsed(None, result.response, f"{last_error[index]} (after {attempt + 1} attempts)")
                still.append(index)
        pending = still
    return ParsedRun([r if r is not None else Parsed(None, None, "not run") for r in results], usage)


def _retry_request(request: ModelRequest, attempt: int) -> ModelRequest:
    if attempt == 0:
        return request
    return request.model_copy(update={"sample_index": request.sample_index + RETRY_STRIDE * attempt})


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json_object(text: str, required_key: str) -> dict[str, Any]:
    """The last JSON object in ``text`` that has ``required_key``; tolerates fences and prose.

    The last one wins because a grader may restate material before giving its own verdict.
    """
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for chunk in candidates:
        found: list[dict[str, Any]] = []
        for start in (i for i, ch in enumerate(chunk) if ch == "{"):
            try:
                obj, _ = decoder.raw_decode(chunk, start)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and required_key in obj:
                found.append(obj)
        if found:
            return found[-1]
    raise ValueError(f"no JSON object with '{required_key}' in reply")
