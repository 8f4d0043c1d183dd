"""Structured replies: parse each response, re-ask with a fresh sample when it does not parse.

Labels, judge verdicts and grader rubrics are JSON (or rubric text) parsed from the model's own
reply. A reply that fails to parse is never silently scored: the request is sent again as a new
sample (a different cache key) up to ``attempts`` times, then reported as a failure with the
parser's reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from deliberate.llm import (
    BackendOptions,
    ModelRequest,
    ModelResponse,
    UsageReport,
    generate,
    get_backend,
)

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
    parse: Callable[[ModelResponse], T] | Sequence[Callable[[ModelResponse], T]],
    options: BackendOptions | None = None,
    *,
    attempts: int = 3,
    description: str = "requests",
) -> ParsedRun:
    """Run requests; ``parse`` raises ``ValueError`` on a bad reply, which triggers a re-ask.

    ``parse`` is one parser for every request, or one per request (requests of different kinds
    still go out as one batch).
    """
    parsers = [parse] * len(requests) if callable(parse) else list(parse)
    if len(parsers) != len(requests):
        raise ValueError(f"{len(parsers)} parsers for {len(requests)} requests")
    # One backend for every round: re-asking a local model must not load its weights again.
    backend = get_backend(model, options) if isinstance(model, str) else model
    results: list[Parsed[Any] | None] = [None] * len(requests)
    pending = list(range(len(requests)))
    usage = UsageReport()
    last_error: dict[int, str] = {}
    for attempt in range(attempts):
        if not pending:
            break
        batch = [_retry_request(requests[i], attempt) for i in pending]
        label = description if attempt == 0 else f"{description} (re-ask {attempt})"
        output = generate(batch, backend, options, description=label)
        usage = usage.merge(output.usage)
        still: list[int] = []
        for index, result in zip(pending, output.results):
            if result.response is None:
                results[index] = Parsed(None, None, result.error)  # transport failure: final
                continue
            try:
                results[index] = Parsed(parsers[index](result.response), result.response, None)
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


def top_level_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in ``text`` that is not inside another one, in order of appearance.

    Code fences and prose around the objects are skipped; an object nested in another (a
    verdict quoted inside a verdict, say) is part of its parent and never counted on its own.
    """
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    position = 0
    while (start := text.find("{", position)) != -1:
        try:
            obj, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            position = start + 1
            continue
        if isinstance(obj, dict):
            found.append(obj)
        position = end
    return found


def extract_json_object(text: str, required_key: str) -> dict[str, Any]:
    """The one top-level JSON object in ``text`` that has ``required_key``.

    Raises:
        ValueError: no such object, or two that differ (a reply that restates or quotes another
            answer next to its own is ambiguous, so it is re-asked rather than guessed).
    """
    candidates = [obj for obj in top_level_objects(text) if required_key in obj]
    if not candidates:
        raise ValueError(f"no JSON object with '{required_key}' in reply")
    if any(obj != candidates[0] for obj in candidates[1:]):
        raise ValueError(f"{len(candidates)} different JSON objects with '{required_key}' in reply")
    return candidates[0]
