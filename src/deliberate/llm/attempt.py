"""One batch's trip through a backend: deadlines, retries with backoff, and what failed.

For a server (``backend.remote``), every call has a deadline for the whole request: connecting,
sending and receiving every byte of the reply must finish within ``options.timeout`` seconds
(:func:`~deliberate.llm.deadline.within`, so a server that trickles a byte at a time times out
like one that never answers). All attempts of one request, with the waits between them, must also fit in
``options.request_budget`` seconds: that is what bounds a hung server per request. Local models
have neither; a generate call there takes as long as generation does.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from deliberate.llm.backend import Backend
from deliberate.llm.deadline import seconds, within
from deliberate.llm.errors import PermanentError, TransientError, redact
from deliberate.llm.options import BackendOptions
from deliberate.llm.types import ModelRequest, ModelResponse
from deliberate.llm.usage import ModelUsage


@dataclass
class Outcome:
    """The replies of one batch, or why it failed; ``cause`` when every attempt shared one."""

    responses: list[ModelResponse] | None
    attempts: int
    error: str | None = None
    cause: str | None = None


async def attempt_batch(
    backend: Backend, requests: list[ModelRequest], options: BackendOptions, usage: ModelUsage,
) -> Outcome:
    """Call the backend for one batch, retrying transient errors; never raises (but cancels)."""
    loop = asyncio.get_running_loop()
    budget_end = loop.time() + options.request_budget if backend.remote else None
    causes: set[str | None] = set()
    error, attempt = "not attempted", 0
    for attempt in range(1, options.max_attempts + 1):
        usage.attempts += len(requests)
        limit = _limit(options, budget_end, loop.time()) if backend.remote else None
        try:
            responses = await _call(backend, requests, limit)
        except TransientError as exc:
            causes.add(exc.cause)
            error = f"{exc} (after {attempt} attempt{'s' if attempt > 1 else ''})"
            if attempt == options.max_attempts:
                break
            delay = retry_delay(attempt, exc.retry_after, options)
            if budget_end is not None and loop.time() + delay >= budget_end:
                error += f"; gave up: its {options.request_budget:g} s budget is spent"
                break
            await asyncio.sleep(delay)
            continue
        except PermanentError as exc:
            causes.add(exc.cause)
            error = str(exc)
            break
        except Exception as exc:  # noqa: BLE001 - a backend bug or local failure: record it, keep the run going
            return Outcome(None, attempt, redact(f"{type(exc).__name__}: {exc}"))
        for response in responses:
            usage.input_tokens += response.usage.input_tokens
            usage.output_tokens += response.usage.output_tokens
        return Outcome(responses, attempt)
    return Outcome(None, attempt, error, causes.pop() if len(causes) == 1 else None)


def _limit(options: BackendOptions, budget_end: float | None, now: float) -> float:
    """This attempt's deadline: the timeout, or what is left of the request's budget."""
    if budget_end is None:
        return options.timeout
    return max(0.001, min(options.timeout, budget_end - now))


async def _call(backend: Backend, requests: list[ModelRequest],
                limit: float | None) -> list[ModelResponse]:
    if limit is None:
        return await backend.generate(requests)
    try:
        return await within(backend.generate(requests), limit)
    except asyncio.TimeoutError:
        endpoint = getattr(backend, "endpoint", None)  # servers' backends say where they call
        target = f"{endpoint} for {backend.ref}" if endpoint else backend.ref
        raise TransientError(f"timed out after {seconds(limit)} s waiting for {target}",
                             cause="timed out") from None


def retry_delay(attempt: int, retry_after: float | None, options: BackendOptions) -> float:
    """Exponential backoff with full jitter; a server's Retry-After takes precedence."""
    if retry_after is not None:
        return min(retry_after, options.backoff_max)
    ceiling = min(options.backoff_max, options.backoff_base * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)
