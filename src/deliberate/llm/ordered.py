"""Run a lazy stream of jobs concurrently; hand back their results in input order, bounded.

:func:`in_order` admits item ``i`` only while ``i < oldest unyielded + window``: at most
``window`` items are started and not yet handed back, whether in flight or finished and
waiting for an earlier one (the reorder buffer). Memory is therefore bounded by the window,
whatever the length of the input, which is read lazily. Items are admitted in chunks (at least
a quarter of the window at a time, so that each chunk's cache look-ups go to SQLite together).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class WindowStats:
    """What a run held at most: admitted and unyielded items (``max_window``), and finished
    ones among them waiting for an earlier one (``max_buffered``, counted exactly each time
    results are handed out, so only when stats are asked for)."""

    admitted: int = 0
    yielded: int = 0
    max_window: int = 0
    max_buffered: int = 0


async def in_order(
    items: Iterable[T],
    start: Callable[[T], Awaitable[R]],
    *,
    window: int,
    before_yield: Callable[[], None] | None = None,
    stats: WindowStats | None = None,
) -> AsyncIterator[list[tuple[T, R]]]:
    """Yield ``(item, await start(item))`` in the order of ``items``, ``window`` at a time, in
    runs: each list holds the results that were ready, in order, when it was made.

    ``before_yield`` runs before each run is handed out (the runner commits its cache writes
    there). A job's exception is raised when its turn comes (after the run before it); the
    jobs still running are cancelled when the caller stops or an exception ends the iteration.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    measure = stats is not None
    stats = stats or WindowStats()
    source = iter(items)
    entries: deque[tuple[T, asyncio.Future[R]]] = deque()
    refill, exhausted = max(1, window // 4), False
    try:
        while True:
            free = window - len(entries)
            if not exhausted and (free >= refill or not entries):
                exhausted = _admit(source, free, start, entries, stats)
            if not entries:
                return
            if not entries[0][1].done():
                await asyncio.wait([entries[0][1]])
            if measure:
                done = sum(future.done() for _, future in entries)
                stats.max_buffered = max(stats.max_buffered, done)
            if before_yield is not None:
                before_yield()
            run = _ready_run(entries)
            stats.yielded += len(run)
            if run:
                yield run
            if entries and entries[0][1].done():
                entries[0][1].result()  # its exception, now that the run before it is out
    finally:
        await _cancel([future for _, future in entries])


def _ready_run(entries: deque[tuple[T, asyncio.Future[R]]]) -> list[tuple[T, R]]:
    """Take the finished results at the head, up to the first that failed."""
    run = []
    while entries and entries[0][1].done():
        future = entries[0][1]
        if future.cancelled() or future.exception() is not None:
            break
        run.append((entries.popleft()[0], future.result()))
    return run


def _admit(source: Iterable[T], free: int, start: Callable[[T], Awaitable[R]],
           entries: deque[tuple[T, asyncio.Future[R]]], stats: WindowStats) -> bool:
    """Start up to ``free`` more items; True when the input has run out."""
    taken = 0
    for item in islice(source, free):
        future = asyncio.ensure_future(start(item))
        entries.append((item, future))
        taken += 1
    stats.admitted += taken
    stats.max_window = max(stats.max_window, len(entries))
    return taken < free


async def _cancel(futures: list[asyncio.Future[R]]) -> None:
    for future in futures:
        future.cancel()
    if futures:
        await asyncio.gather(*futures, return_exceptions=True)
