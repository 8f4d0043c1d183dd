"""The streaming runner: any number of requests in, their results out in input order.

``requests`` may be a lazy iterable of any length (a generator reading a million prompts);
the runner holds a bounded window of them (:mod:`deliberate.llm.ordered`): request ``i`` is
admitted only while ``i`` is less than the oldest unyielded index plus ``window`` (default
:data:`WINDOW_FACTOR` x concurrency x the backend's batch size), and finished results wait in a
reorder buffer inside that window. Memory is flat in the number of requests.

Guarantees, as for :func:`~deliberate.llm.runner.run_requests` (which is this, collected):

* one :class:`ModelResult` per request, in input order, its ``id`` the request's;
* identical requests (one cache key) are sent once while one of them is pending; a repeat that
  comes later is served by the cache (with the cache off it is sent again: dedup without a
  cache reaches as far as the window);
* every success is committed to the cache before it is yielded (writes go in batches of 256);
  a killed run resumes with only the unfinished requests;
* retries, deadlines and the request budget (:mod:`deliberate.llm.attempt`); fail-fast with
  :class:`StageAborted` (:mod:`deliberate.llm.failfast`), raised from the iteration;
* usage (:attr:`RequestStream.usage`, complete once the iteration ends) and a progress bar
  (with the total when ``requests`` has a length, else a count and a rate).

Use it as ``async with RequestStream(...) as stream: async for result in stream``, or through
the synchronous :func:`iter_results`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from deliberate.llm.backend import Backend
from deliberate.llm.cache import ResponseCache
from deliberate.llm.dispatch import Dispatcher, ResultCallback
from deliberate.llm.options import BackendOptions
from deliberate.llm.ordered import WindowStats, in_order
from deliberate.llm.progress import open_progress
from deliberate.llm.types import ModelRequest, ModelResult
from deliberate.llm.usage import UsageReport

if TYPE_CHECKING:
    from typing_extensions import Self

WINDOW_FACTOR = 4
"""Default window: this many requests per concurrent call (enough to keep every worker busy
while the oldest request of the window is slow)."""


def default_window(backend: Backend, options: BackendOptions) -> int:
    concurrency = options.concurrency or backend.default_concurrency
    return max(16, WINDOW_FACTOR * concurrency * backend.batch_size)


class RequestStream:
    """Results of ``requests`` through ``backend``, in input order; see the module docstring.

    Args:
        window: most requests admitted and not yet yielded (default :func:`default_window`).
        send: False serves only what the cache holds; the rest fail with "not in the cache".
        close_backend: close the backend when the stream ends (its clients are loop-bound).
        stats: a :class:`WindowStats` to fill with what the window held at most.
    """

    def __init__(self, backend: Backend, requests: Iterable[ModelRequest],
                 options: BackendOptions | None = None, *, cache: ResponseCache | None = None,
                 description: str = "requests", window: int | None = None,
                 on_result: ResultCallback | None = None, send: bool = True,
                 close_backend: bool = True, stats: WindowStats | None = None) -> None:
        self.options = options or BackendOptions()
        self.backend = backend
        self.requests = requests
        self.window = window or default_window(backend, self.options)
        self.stats = stats
        self._close_backend = close_backend
        total = len(requests) if hasattr(requests, "__len__") else None
        progress = open_progress(description, total=total, enabled=self.options.progress)
        self.dispatcher = Dispatcher(backend, self.options, cache=cache, on_result=on_result,
                                     progress=progress, send=send)
        self._iterator: AsyncIterator[list[Any]] | None = None

    @property
    def usage(self) -> UsageReport:
        return UsageReport(models={self.backend.ref: self.dispatcher.usage})

    def __aiter__(self) -> AsyncIterator[ModelResult]:
        return self._each()

    async def _each(self) -> AsyncIterator[ModelResult]:
        runs = self.runs()
        async for run in runs:
            for result in run:
                yield result

    def runs(self) -> AsyncIterator[list[Any]]:
        """The results in runs: each list is what was ready, in order (fewer loop turns)."""
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def _run(self) -> AsyncIterator[list[Any]]:
        dispatcher = self.dispatcher
        try:
            await dispatcher.start()
            ordered = in_order(self.requests, self._start, window=self.window,
                               before_yield=dispatcher.flush, stats=self.stats)
            try:
                async for run in ordered:
                    yield [self._output(request, result) for request, result in run]
            finally:
                await ordered.aclose()
        finally:
            await dispatcher.close()
            if self._close_backend:
                await self.backend.aclose()

    def _start(self, request: ModelRequest) -> Awaitable[Any]:
        """The job run for one request (subclasses may do more, e.g. re-ask)."""
        return self.dispatcher.submit(request)

    def _output(self, request: ModelRequest, result: Any) -> Any:
        """What is yielded for one request: its result, under its own id."""
        return result if result.id == request.id else result.model_copy(update={"id": request.id})

    async def aclose(self) -> None:
        """Stop early: cancel what is in flight, commit the cache, close the backend."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ResultIterator:
    """:class:`RequestStream` for synchronous callers: an iterator over results, in order.

    It runs its own event loop, which advances while the caller waits for the next result (so
    keep the work per result small, or requests in flight wait for it). Close it (or use it in
    ``with``) when stopping early; iterating to the end closes it.
    """

    def __init__(self, stream: RequestStream, cache: ResponseCache | None = None) -> None:
        self.stream = stream
        self._cache = cache
        self._loop = asyncio.new_event_loop()
        self._runs = stream.runs()
        self._ready: deque[Any] = deque()
        self._closed = False

    @property
    def usage(self) -> UsageReport:
        return self.stream.usage

    def __iter__(self) -> Iterator[ModelResult]:
        return self

    def __next__(self) -> ModelResult:
        while not self._ready:
            if self._closed:
                raise StopIteration
            self._ready.extend(self._next_run())
        return self._ready.popleft()

    def _next_run(self) -> list[Any]:
        try:
            return self._loop.run_until_complete(self._runs.__anext__())
        except StopAsyncIteration:
            self.close()
            raise StopIteration from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._loop.run_until_complete(self.stream.aclose())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()
            if self._cache is not None:
                self._cache.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_results(requests: Iterable[ModelRequest], model: str | Backend,
                 options: BackendOptions | None = None, **kwargs: Any) -> ResultIterator:
    """Stream ``requests`` through ``model`` (a ref or a backend), results in input order.

    Opens the response cache ``options`` names (and closes it at the end); ``kwargs`` are
    :class:`RequestStream`'s (``description``, ``window``, ``on_result``, ``send``, ``stats``).
    """
    options = options or BackendOptions()
    backend, cache = open_backend(model, options)
    return ResultIterator(RequestStream(backend, requests, options, cache=cache, **kwargs), cache)


def open_backend(model: str | Backend, options: BackendOptions) -> tuple[Backend, ResponseCache | None]:
    """The backend for a ref (or the one given) and the cache ``options`` ask for."""
    from deliberate.llm.cache import default_cache_path
    from deliberate.llm.refs import get_backend

    backend = get_backend(model, options) if isinstance(model, str) else model
    cache = ResponseCache(options.cache or default_cache_path()) if options.use_cache else None
    return backend, cache
