"""One backend's calls for a run: cache look-ups, dedup, workers, retries, fail-fast, usage.

:meth:`Dispatcher.submit` turns a request into a future result. Requests whose cache key is
already looked up or in flight share its future (dedup), so identical requests are sent once
while one of them is pending; later ones find the cached reply. Look-ups are batched: every
request submitted before the event loop next runs goes to SQLite in one ``get_many`` per 256
keys. Misses wait in a FIFO queue for ``concurrency`` workers, each sending one batch at a time
through :func:`~deliberate.llm.attempt.attempt_batch` (retries, deadlines, budget). Successes
are buffered in a :class:`~deliberate.llm.cache.CacheWriter` and committed together once the
event loop has handled every reply that arrived with them (a group commit: one transaction for
all the replies of one turn of the loop, at most 256), so a killed run loses no more answers
than it had in flight; the streaming runner also flushes before it hands out a result, so a
result is cached before anyone sees it. Requests failing for one stage-wide reason stop the run with :class:`StageAborted`
(:mod:`deliberate.llm.failfast`): every pending future then raises it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from deliberate.llm.attempt import Outcome, attempt_batch
from deliberate.llm.backend import Backend
from deliberate.llm.cache import CacheWriter, ResponseCache
from deliberate.llm.failfast import FailFast
from deliberate.llm.options import BackendOptions
from deliberate.llm.progress import RunProgress
from deliberate.llm.types import ModelRequest, ModelResult
from deliberate.llm.usage import ModelUsage

ResultCallback = Callable[[ModelResult], None]
LOOKUP_CHUNK = 256
Pending = tuple[str, ModelRequest, "asyncio.Future[ModelResult]"]


async def cache_identity(backend: Backend, options: BackendOptions) -> str:
    """What this run's cache keys are keyed by: the backend's identity, plus ``revision``."""
    identity = await backend.cache_identity()
    return f"{identity}|revision={options.revision}" if options.revision else identity


class Dispatcher:
    """Sends one backend the requests it is given; see the module docstring."""

    def __init__(self, backend: Backend, options: BackendOptions, *,
                 cache: ResponseCache | None = None, on_result: ResultCallback | None = None,
                 progress: RunProgress | None = None, send: bool = True) -> None:
        self.backend = backend
        self.options = options
        self.concurrency = options.concurrency or backend.default_concurrency
        self.usage = ModelUsage()
        self.identity = ""
        self.in_flight = self.peak_in_flight = 0
        self.writer = CacheWriter(cache, backend.ref)
        self._cache = cache
        self._on_result = on_result
        self.progress = progress or RunProgress("requests", total=None, enabled=False)
        self._send = send
        self._pending: dict[str, list] = {}  # key -> [future, how many requests share it]
        self._lookups: list[Pending] = []
        self._queue: asyncio.Queue[list[Pending]] = asyncio.Queue()
        self._watch = FailFast(self.concurrency)
        self._workers: list[asyncio.Task[None]] = []
        self.failure: BaseException | None = None
        self._flush_pending = False

    async def start(self) -> None:
        """Learn the cache identity and start the workers."""
        self.identity = await cache_identity(self.backend, self.options)
        if self._send:
            self._workers = [asyncio.ensure_future(self._work()) for _ in range(self.concurrency)]

    def key(self, request: ModelRequest) -> str:
        return request.cache_key(self.identity)

    def submit(self, request: ModelRequest) -> asyncio.Future[ModelResult]:
        """The future result of ``request`` (shared with a pending identical request)."""
        key = self.key(request)
        entry = self._pending.get(key)
        if entry is not None:
            entry[1] += 1
            return entry[0]
        future: asyncio.Future[ModelResult] = asyncio.get_running_loop().create_future()
        if self.failure is not None:
            _fail(future, self.failure)
            return future
        self._pending[key] = [future, 1]
        self.usage.requests += 1
        if not self._lookups:
            asyncio.get_running_loop().call_soon(self._look_up)
        self._lookups.append((key, request, future))
        return future

    def _look_up(self) -> None:
        """Serve what the cache holds; queue the rest for the workers, in submission order."""
        todo, self._lookups = self._lookups, []
        for start in range(0, len(todo), LOOKUP_CHUNK):
            chunk = [p for p in todo[start:start + LOOKUP_CHUNK] if not p[2].done()]
            hits = self._cache.get_many([k for k, _, _ in chunk]) if self._cache else {}
            misses = []
            for key, request, _ in chunk:
                if key in hits:
                    self.usage.from_cache += 1
                    self._resolve(ModelResult(id=request.id, key=key, response=hits[key],
                                              cached=True))
                elif not self._send:
                    self._resolve(ModelResult(id=request.id, key=key, error="not in the cache"))
                else:
                    misses.append((key, request, _))
            for batch in _batches(misses, self.backend.batch_size):
                self._queue.put_nowait(batch)

    def _resolve(self, result: ModelResult) -> None:
        future, count = self._pending.pop(result.key)
        if not future.done():
            future.set_result(result)
        self.progress.advance(count, failed=not result.ok, cached=result.cached)
        if self._on_result is not None:
            self._on_result(result)

    async def _work(self) -> None:
        try:
            while True:
                batch = await self._queue.get()
                async with self._watch.slot():
                    outcome = await self._attempt(batch)
                self._finish(batch, outcome)
                self._watch.check()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - StageAborted, or a bug: end the run with it
            self.abort(exc)

    async def _attempt(self, batch: list[Pending]) -> Outcome:
        self.usage.sent += len(batch)
        self.in_flight += len(batch)
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await attempt_batch(self.backend, [r for _, r, _ in batch], self.options,
                                       self.usage)
        finally:
            self.in_flight -= len(batch)

    def _finish(self, batch: list[Pending], outcome: Outcome) -> None:
        if outcome.responses is None:
            self.usage.failed += len(batch)
        for i, (key, request, _) in enumerate(batch):
            response = outcome.responses[i] if outcome.responses is not None else None
            result = ModelResult(id=request.id, key=key, response=response,
                                 error=outcome.error if response is None else None,
                                 attempts=outcome.attempts)
            if response is not None:
                self.writer.add(key, response)
                self._flush_soon()
            self._resolve(result)
            self._watch.record(result.ok, outcome.cause, outcome.error)

    def abort(self, exc: BaseException) -> None:
        """Fail every pending request with ``exc`` and stop the workers."""
        if self.failure is None:
            self.failure = exc
        for future, _ in self._pending.values():
            _fail(future, self.failure)
        current = asyncio.current_task()
        for worker in self._workers:
            if worker is not current:
                worker.cancel()

    def _flush_soon(self) -> None:
        """Commit after the replies this turn of the event loop is handling (once)."""
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Commit the buffered cache writes."""
        self._flush_pending = False
        self.writer.flush()

    async def close(self) -> None:
        """Stop the workers, fail what is still pending, commit the cache writes."""
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        for future, _ in self._pending.values():
            future.cancel()
        self.flush()
        self.progress.close()


def _fail(future: asyncio.Future[ModelResult], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        future.exception()  # retrieved: whoever waits on it still gets it, no stray warning


def _batches(todo: list[Pending], size: int) -> list[list[Pending]]:
    """Group requests with equal sampling settings into batches of ``size``."""
    if size == 1:
        return [[item] for item in todo]
    groups: dict[str, list[Pending]] = {}
    for item in todo:
        groups.setdefault(item[1].config.model_dump_json(), []).append(item)
    return [g[i:i + size] for g in groups.values() for i in range(0, len(g), size)]
