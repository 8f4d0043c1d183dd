"""The batch runner every stage uses to call models.

It deduplicates requests by cache key, serves what the cache already holds, and sends the rest
with bounded concurrency, retrying transient failures with exponential backoff and jitter
(``Retry-After`` wins when the server sends it) within a deadline per attempt and a budget per
request (:mod:`deliberate.llm.attempt`). Each response is cached the moment it arrives, so a
killed run resumes with only the unfinished requests. Failures about one request are returned
with their reason and never abort the run; failures every request shares (a bad key, an unknown
model, no server) stop it after a few requests with :class:`StageAborted`
(:mod:`deliberate.llm.failfast`).

Cache keys hash the request with the backend's :meth:`cache_identity` (for a server: its model,
endpoint and, where the server reports them, the weights it serves) and ``options.revision``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deliberate.llm.attempt import attempt_batch
from deliberate.llm.attempt import retry_delay as _delay  # noqa: F401 - the name tests import
from deliberate.llm.backend import Backend
from deliberate.llm.cache import ResponseCache
from deliberate.llm.failfast import FailFast
from deliberate.llm.options import BackendOptions
from deliberate.llm.progress import RunProgress
from deliberate.llm.types import ModelRequest, ModelResult
from deliberate.llm.usage import ModelUsage, UsageReport

ResultCallback = Callable[[ModelResult], None]
Batch = list[tuple[str, ModelRequest]]


@dataclass
class RunOutput:
    """Results in request order, and the stage's usage."""

    results: list[ModelResult]
    usage: UsageReport


async def cache_identity(backend: Backend, options: BackendOptions) -> str:
    """What this run's cache keys are keyed by: the backend's identity, plus ``revision``."""
    identity = await backend.cache_identity()
    return f"{identity}|revision={options.revision}" if options.revision else identity


async def run_requests(
    backend: Backend,
    requests: Sequence[ModelRequest],
    options: BackendOptions | None = None,
    *,
    cache: ResponseCache | None = None,
    on_result: ResultCallback | None = None,
    description: str = "requests",
) -> RunOutput:
    """Run requests through a backend; returns one :class:`ModelResult` per request, in order.

    Raises :class:`StageAborted` when requests keep failing for one stage-wide reason; what
    succeeded before that is cached.
    """
    options = options or BackendOptions()
    try:
        identity = await cache_identity(backend, options)
        keys = [r.cache_key(identity) for r in requests]
        unique: dict[str, ModelRequest] = {}
        for key, request in zip(keys, requests):
            unique.setdefault(key, request)
        usage = ModelUsage(requests=len(unique))
        done = _cached(cache, unique, usage, on_result)
        todo = [(k, r) for k, r in unique.items() if k not in done]
        progress = RunProgress(description, total=len(unique), done=len(done),
                               enabled=options.progress)

        def report(result: ModelResult) -> None:
            progress.advance(failed=not result.ok)
            if on_result is not None:
                on_result(result)

        with progress:
            await _send(backend, todo, options, usage, cache, done, report)
    finally:
        await backend.aclose()
    return RunOutput(_in_order(requests, keys, done), UsageReport(models={backend.ref: usage}))


def _cached(cache: ResponseCache | None, unique: dict[str, ModelRequest], usage: ModelUsage,
            on_result: ResultCallback | None) -> dict[str, ModelResult]:
    """Results the cache already holds (reported to ``on_result`` at once)."""
    hits = cache.get_many(unique) if cache is not None else {}
    done = {key: ModelResult(id=unique[key].id, key=key, response=response, cached=True)
            for key, response in hits.items()}
    usage.from_cache = len(hits)
    if on_result is not None:
        for result in done.values():
            on_result(result)
    return done


async def _send(backend: Backend, todo: Batch, options: BackendOptions, usage: ModelUsage,
                cache: ResponseCache | None, done: dict[str, ModelResult],
                report: ResultCallback) -> None:
    """Send what the cache lacks; each result is cached and reported the moment it arrives."""
    concurrency = options.concurrency or backend.default_concurrency
    semaphore = asyncio.Semaphore(concurrency)
    watch = FailFast(concurrency)

    async def run_batch(batch: Batch) -> None:
        async with semaphore, watch.slot():
            usage.sent += len(batch)
            outcome = await attempt_batch(backend, [r for _, r in batch], options, usage)
            if outcome.responses is None:
                usage.failed += len(batch)
            for i, (key, request) in enumerate(batch):
                response = outcome.responses[i] if outcome.responses is not None else None
                result = ModelResult(id=request.id, key=key, response=response,
                                     error=outcome.error if response is None else None,
                                     attempts=outcome.attempts)
                done[key] = result
                if result.ok and cache is not None:
                    cache.put(key, backend.ref, response)  # type: ignore[arg-type]
                report(result)
                watch.record(result.ok, outcome.cause, outcome.error)
            watch.check()

    tasks = [asyncio.ensure_future(run_batch(b)) for b in _batches(todo, backend.batch_size)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:  # StageAborted, or an interrupt: stop what is still in flight
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _batches(todo: Batch, size: int) -> list[Batch]:
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
