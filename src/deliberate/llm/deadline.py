"""A deadline for one awaitable, safe to nest and to cancel (which ``asyncio.wait_for`` is not).

Before Python 3.12, ``wait_for`` cancelled from outside returns the inner result instead of
raising when the inner call finished in the same moment; nested in another ``wait_for`` that
loses a cancellation and leaves "Task exception was never retrieved" tracebacks behind when a
stage stops. :func:`within` always re-raises a cancellation and always collects the call's
outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, or ``asyncio.TimeoutError`` once ``seconds`` have passed."""
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
