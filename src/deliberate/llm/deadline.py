"""A deadline for one awaitable, safe to nest and to cancel (which ``asyncio.wait_for`` is not).

Before Python 3.12, ``wait_for`` cancelled from outside returns the inner result instead of
raising when the inner call finished in the same moment; nested in another ``wait_for`` that
loses a cancellation and leaves "Task exception was never retrieved" tracebacks behind when a
stage stops. :func:`within` always re-raises a cancellation and always collects the call's
outcome. On 3.11 and later, it is ``asyncio.timeout`` (cheaper: no task per call), with the
same guarantee.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, or ``asyncio.TimeoutError`` once ``seconds`` have passed."""
    if sys.version_info >= (3, 11):
        return await _within_scope(awaitable, seconds)
    return await _within_task(awaitable, seconds)


async def _within_scope(awaitable: Awaitable[T], seconds: float) -> T:
    """Python 3.11+: ``asyncio.timeout`` around the call, in this task (no task per call).

    A cancellation from outside stays a cancellation, even when the call raises something else
    while it is being cancelled.
    """
    task = asyncio.current_task()
    try:
        async with asyncio.timeout(seconds):  # type: ignore[attr-defined]
            return await awaitable
    except BaseException as exc:
        if task is not None and task.cancelling() and not isinstance(exc, asyncio.CancelledError):
            raise asyncio.CancelledError from exc
        raise


async def _within_task(awaitable: Awaitable[T], seconds: float) -> T:
    """Python 3.10: the call in a task of its own, waited for with a time-out."""
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        await _stop(task)
        raise
    if task not in done:
        await _stop(task)
        if task.cancelled():
            raise asyncio.TimeoutError
    return task.result()


async def _stop(task: asyncio.Future[T]) -> None:
    """Cancel the call and wait for it to end, collecting whatever it ended with."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def seconds(value: float) -> str:
    """``300.0`` -> ``300``, ``0.25`` -> ``0.25``, ``299.97`` -> ``300``."""
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"
