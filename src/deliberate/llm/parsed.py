"""Structured replies: parse each response, re-ask with a fresh sample when it does not parse.

Labels, judge verdicts and grader rubrics are JSON (or rubric text) parsed from the model's own
reply. A reply that fails to parse is never silently scored: the request is sent again as a new
sample (a different cache key: sample index ``+ RETRY_STRIDE x attempt``) up to ``attempts``
times, then reported as a failure with the parser's reason. A transport failure (the request
failed for good after its retries) is final and not re-asked.

Re-asks are interleaved, not a second pass: a request keeps its place in the streaming
runner's window while its re-asks run, and its :class:`Parsed` is yielded in input order once
it parsed or ran out of attempts. So :class:`ParsedStream` holds a bounded window like the
plain stream, and :func:`generate_parsed` (the list form) gives the same results as before.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from deliberate.llm.backend import Backend
from deliberate.llm.options import BackendOptions
from deliberate.llm.stream import RequestStream, ResultIterator, default_window, open_backend
from deliberate.llm.types import ModelRequest, ModelResponse
from deliberate.llm.usage import UsageReport

T = TypeVar("T")
RETRY_STRIDE = 1000
"""Parse retries use sample index ``index + RETRY_STRIDE * attempt``: new keys, no collisions."""
RETRY_TEMPERATURE = 0.7
"""A re-ask of a greedy (temperature 0) request samples at this temperature: greedy decoding
would give a local model's same unparsable reply again (measured: a 0.5B labeler repeated a
256-token run of "none" on each of its 3 asks)."""


class Parsed(NamedTuple, Generic[T]):
    value: T | None
    response: ModelResponse | None
    error: str | None


class ParsedRun(NamedTuple):
    results: list[Parsed[Any]]
    usage: UsageReport


class ParsedStream(RequestStream):
    """:class:`RequestStream` yielding one :class:`Parsed` per request, re-asking as needed."""

    def __init__(self, backend: Backend, requests: Iterable[ModelRequest],
                 parse: Callable[[ModelResponse], Any] | Sequence[Callable[[ModelResponse], Any]],
                 options: BackendOptions | None = None, *, attempts: int = 3, **kwargs: Any) -> None:
        super().__init__(backend, requests, options, **kwargs)
        # one parser for all, or one per request: requests start in input order, so do parsers
        self._parsers = iter(parse) if not callable(parse) else None
        self.parse = parse
        self.attempts = attempts

    def _start(self, request: ModelRequest) -> asyncio.Future[Parsed[Any]]:
        parse = next(self._parsers) if self._parsers is not None else self.parse
        return asyncio.ensure_future(self._ask(request, parse))

    def _output(self, request: ModelRequest, result: Any) -> Any:
        return result

    async def _ask(self, request: ModelRequest, parse: Callable[[ModelResponse], Any]) -> Parsed[Any]:
        parsed: Parsed[Any] = Parsed(None, None, "not run")
        for attempt in range(self.attempts):
            result = await self.dispatcher.submit(_retry_request(request, attempt))
            if result.response is None:
                return Parsed(None, None, result.error)  # transport failure: final
            try:
                return Parsed(parse(result.response), result.response, None)
            except ValueError as exc:
                if attempt + 1 < self.attempts:
                    self.dispatcher.progress.grow()
                parsed = Parsed(None, result.response,
                                f"unparsable reply: {exc} (after {attempt + 1} attempts)")
        return parsed


def iter_parsed(requests: Iterable[ModelRequest], model: str | Backend,
                parse: Callable[[ModelResponse], T], options: BackendOptions | None = None,
                *, attempts: int = 3, **kwargs: Any) -> ResultIterator:
    """Synchronous :class:`ParsedStream`: one :class:`Parsed` per request, in input order."""
    options = options or BackendOptions()
    backend, cache = open_backend(model, options)
    stream = ParsedStream(backend, requests, parse, options, attempts=attempts, cache=cache,
                          **kwargs)
    return ResultIterator(stream, cache)


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
    still go out together). One backend serves every round: a re-ask never reloads local weights.
    """
    if not callable(parse) and len(parse) != len(requests):
        raise ValueError(f"{len(parse)} parsers for {len(requests)} requests")
    options = options or BackendOptions()
    backend, cache = open_backend(model, options)
    window = max(len(requests), default_window(backend, options))
    stream = ParsedStream(backend, requests, parse, options, attempts=attempts, cache=cache,
                          description=description, window=window)

    async def collect() -> list[Parsed[Any]]:
        async with stream:
            return [parsed async for parsed in stream]

    try:
        return ParsedRun(asyncio.run(collect()), stream.usage)
    finally:
        if cache is not None:
            cache.close()


def _retry_request(request: ModelRequest, attempt: int) -> ModelRequest:
    if attempt == 0:
        return request
    update: dict[str, Any] = {"sample_index": request.sample_index + RETRY_STRIDE * attempt}
    if request.config.temperature == 0:
        update["config"] = request.config.model_copy(update={"temperature": RETRY_TEMPERATURE})
    return request.model_copy(update=update)


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
