"""The batch runner every stage uses to call models.

It deduplicates requests by cache key, serves what the cache already holds, and sends the rest
with bounded concurrency, retrying transient failures with exponential backoff and jitter
(``Retry-After`` wins when the server sends it). Each response is cached the moment it arrives,
so a killed run resumes with only the unfinished requests. Permanent failures are returned with
their reason; they never abort the run.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deliberate.llm.backend import Backend
from deliberate.llm.cache import ResponseCache
from deliberate.llm.errors import PermanentError, TransientError, redact
from deliberate.llm.options import BackendOptions
from deliberate.llm.progress import RunProgress
from deliberate.llm.types import ModelRequest, ModelResult
from deliberate.llm.usage import ModelUsage, UsageReport

ResultCallback = Callable[[ModelResult], None]


@dataclass
class RunOutput:
    """Results in request order, and the stage's usage."""

    results: list[ModelResult]
    usage: UsageReport


async def run_requests(
    backend: Backend,
    requests: Sequence[ModelRequest],
    options: BackendOptions | None = None,
    *,
    cache: ResponseCache | None = None,
    on_result: ResultCallback | None = None,
    description: str = "requests",
) -> RunOutput:
    """Run requests through a backend; returns one :class:`ModelResult` per request, in order."""
    options = options or BackendOptions()
    # Local models add a fingerprint of their files (see llm.weights.local_weights_ref).
    keys = [r.cache_key(backend.cache_ref) for r in requests]
    unique: dict[str, ModelRequest] = {}
    for key, request in zip(keys, requests):
        unique.setdefault(key, request)
    usage = ModelUsage(requests=len(unique))
    done: dict[str, ModelResult] = {}
    hits = cache.get_many(unique) if cache is not None else {}
    for key, response in hits.items():
        done[key] = ModelResult(id=unique[key].id, key=key, response=response, cached=True)
    usage.from_cache = len(hits)
    todo = [(k, r) for k, r in unique.items() if k not in done]
    progress = RunProgress(description, total=len(unique), done=len(hits), enabled=options.progress)
    concurrency = options.concurrency or backend.default_concurrency
    semaphore = asyncio.Semaphore(concurrency)

    def finish(result: ModelResult) -> None:
        done[result.key] = result
        if result.ok and cache is not None:
            cache.put(result.key, backend.ref, result.response)  # type: ignore[arg-type]
        progress.advance(failed=not result.ok)
        if on_result is not None:
            on_result(result)

    async def run_batch(batch: list[tuple[str, ModelRequest]]) -> None:
        async with semaphore:
            for result in await _attempt(backend, batch, options, usage):
                finish(result)

    if on_result is not None:
        for result in done.values():
            on_result(result)
    with progress:
        await asyncio.gather(*(run_batch(b) for b in _batches(todo, backend.batch_size)))
    await backend.aclose()
    return RunOutput(_in_order(requests, keys, done), UsageReport(models={backend.ref: usage}))


async def _attempt(
    backend: Backend,
    batch: list[tuple[str, ModelRequest]],
    options: BackendOptions,
    usage: ModelUsage,
) -> list[ModelResult]:
    """Call the backend for one batch, retrying transient errors; never raises."""
    requests = [r for _, r in batch]
    usage.sent += len(batch)
    error = "not attempted"
    for attempt in range(1, options.max_attempts + 1):
        usage.attempts += len(batch)
        try:
            responses = await backend.generate(requests)
        except TransientError as exc:
            error = f"{exc} (after {attempt} attempts)"
            if attempt < options.max_attempts:
                await asyncio.sleep(_delay(attempt, exc.retry_after, options))
            continue
        except PermanentError as exc:
            error = str(exc)
            break
        except Exception as exc:  # noqa: BLE001 - a backend bug or local failure: record it, keep the run going
            error = redact(f"{type(exc).__name__}: {exc}")
            break
        for response in responses:
            usage.input_tokens += response.usage.input_tokens
            usage.output_tokens += response.usage.output_tokens
        return [
            ModelResult(id=r.id, key=k, response=resp, attempts=attempt)
            for (k, r), resp in zip(batch, responses)
        ]
    usage.failed += len(batch)
    return [ModelResult(id=r.id, key=k, error=error, attempts=attempt) for k, r in batch]


def _delay(attempt: int, retry_after: float | None, options: BackendOptions) -> float:
    """Exponential backoff with full jitter; a server's Retry-After takes precedence."""
    if retry_after is not None:
        return min(retry_after, options.backoff_max)
    ceiling = min(options.backoff_max, options.backoff_base * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def _batches(
    todo: list[tuple[str, ModelRequest]], size: int
) -> list[list[tuple[str, ModelRequest]]]:
    """Group requests with equal sampling settings into batches of ``size``."""
    groups: dict[str, list[tuple[str, ModelRequest]]] = {}
    for item in todo:
        groups.setdefault(item[1].config.model_dump_json(), []).append(item)
    return [g[i:i + size] for g in groups.values() for i in range(0, len(g), size)]


def _in_order(
    requests: Sequence[ModelRequest], keys: list[str], done: dict[str, ModelResult]
) -> list[ModelResult]:
    out = []
    for key, request in zip(keys, requests):
        result = done[key]
        out.append(result if result.id == request.id else result.model_copy(update={"id": request.id}))
    return out


def generate(
    requests: Sequence[ModelRequest],
    model: str | Backend,
    options: BackendOptions | None = None,
    *,
    description: str = "requests",
    on_result: ResultCallback | None = None,
) -> RunOutput:
    """Run requests to completion (sync wrapper): results in request order, and usage."""
    from deliberate.llm.cache import default_cache_path
    from deliberate.llm.refs import get_backend

    options = options or BackendOptions()
    backend = get_backend(model, options) if isinstance(model, str) else model
    cache = ResponseCache(options.cache or default_cache_path()) if options.use_cache else None
    try:
        return asyncio.run(
            run_requests(backend, requests, options, cache=cache, on_result=on_result,
                         description=description)
        )
    finally:
        if cache is not None:
            cache.close()
