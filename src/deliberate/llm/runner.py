"""The batch runner every stage uses to call models: a list of requests in, a list out.

It is the streaming runner (:mod:`deliberate.llm.stream`) collected into a list, with a window
as long as the list, so that every request is admitted at once and identical requests are sent
once wherever they stand. Requests are deduplicated by cache key; what the cache holds is
served, the rest sent with bounded concurrency, retrying transient failures with exponential
backoff and jitter (``Retry-After`` wins when the server sends it) within a deadline per
attempt and a budget per request (:mod:`deliberate.llm.attempt`). Responses are cached as they
arrive (committed in batches, and always before the run returns or stops), so a killed run
resumes with only the unfinished requests. Failures about one request are returned with their
reason and never abort the run; failures every request shares (a bad key, an unknown model, no
server) stop it after a few requests with :class:`StageAborted` (:mod:`deliberate.llm.failfast`).

Cache keys hash the request with the backend's :meth:`cache_identity` (for a server: its model,
endpoint and, where the server reports them, the weights it serves) and ``options.revision``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from deliberate.llm.attempt import retry_delay as _delay  # noqa: F401 - the name tests import
from deliberate.llm.backend import Backend
from deliberate.llm.cache import ResponseCache
from deliberate.llm.dispatch import (
    ResultCallback,
    cache_identity,  # noqa: F401 - its home before dispatch.py
)
from deliberate.llm.options import BackendOptions
from deliberate.llm.stream import RequestStream, default_window, open_backend
from deliberate.llm.types import ModelRequest, ModelResult
from deliberate.llm.usage import UsageReport


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
    """Run requests through a backend; returns one :class:`ModelResult` per request, in order.

    ``on_result`` sees each distinct request's result as it arrives (cache hits at once).
    Raises :class:`StageAborted` when requests keep failing for one stage-wide reason; what
    succeeded before that is cached.
    """
    options = options or BackendOptions()
    window = max(len(requests), default_window(backend, options))
    stream = RequestStream(backend, requests, options, cache=cache, description=description,
                           window=window, on_result=on_result)
    async with stream:
        results = [result async for result in stream]
    return RunOutput(results, stream.usage)


def generate(
    requests: Sequence[ModelRequest],
    model: str | Backend,
    options: BackendOptions | None = None,
    *,
    description: str = "requests",
    on_result: ResultCallback | None = None,
) -> RunOutput:
    """Run requests to completion (sync wrapper): results in request order, and usage."""
    options = options or BackendOptions()
    backend, cache = open_backend(model, options)
    try:
        return asyncio.run(
            run_requests(backend, requests, options, cache=cache, on_result=on_result,
                         description=description)
        )
    finally:
        if cache is not None:
            cache.close()
