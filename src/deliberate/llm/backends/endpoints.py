"""Several servers for one model (replicas of the same weights): pick one per request.

Each request goes to the endpoint with the fewest requests in flight (ties in turn). An
endpoint failing ``threshold`` requests in a row for a reason of its own (connection refused,
reset or closed, DNS, TLS, a time-out, HTTP 5xx; not 4xx, not 429) is set aside for a
cool-down (``cool_down`` seconds, doubling with each further cool-down up to ``max_cool_down``),
then tried again with one request at a time until one succeeds. A request that failed on an
endpoint while another is available is retried there at once (``retry_after`` 0), so a dead
replica costs no backoff. When every endpoint is cooling down, requests go to the one that
recovers first: their failures then reach the runner's fail-fast, which stops the stage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from deliberate.llm.errors import TransientError

ENDPOINT_CAUSES = frozenset({"connection refused", "connection reset", "connection closed",
                             "DNS lookup failed", "TLS error", "timed out"})
THRESHOLD = 3
COOL_DOWN = 5.0
MAX_COOL_DOWN = 60.0


@dataclass(eq=False)
class Endpoint:
    """One server: its URL, what it is doing, and its health."""

    url: str
    in_flight: int = 0
    streak: int = 0
    cool_downs: int = 0
    cooling_until: float = 0.0
    served: int = 0
    failed: int = 0
    state: dict[str, Any] = field(default_factory=dict)  # the backend's client and messages

    def probing(self) -> bool:
        """Back from a cool-down, not yet succeeded: one request at a time."""
        return self.cool_downs > 0 and self.streak > 0


def endpoint_fault(exc: BaseException) -> bool:
    """Whether ``exc`` says the endpoint (not the request) is in trouble."""
    if not isinstance(exc, TransientError):
        return False
    return exc.cause in ENDPOINT_CAUSES or (exc.status is not None and exc.status >= 500)


class EndpointPool:
    """The endpoints of one model, with least-in-flight choice and cool-downs."""

    def __init__(self, urls: Sequence[str], *, threshold: int = THRESHOLD,
                 cool_down: float = COOL_DOWN, max_cool_down: float = MAX_COOL_DOWN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.endpoints = [Endpoint(url) for url in urls]
        self.threshold, self.cool_down, self.max_cool_down = threshold, cool_down, max_cool_down
        self._clock = clock
        self._turn = 0

    def available(self, now: float | None = None) -> list[Endpoint]:
        now = self._clock() if now is None else now
        return [e for e in self.endpoints
                if e.cooling_until <= now and not (e.probing() and e.in_flight)]

    def pick(self) -> Endpoint:
        """The available endpoint with the fewest in flight; else the first to recover."""
        ready = self.available()
        if not ready:
            return min(self.endpoints, key=lambda e: e.cooling_until)
        self._turn = (self._turn + 1) % len(self.endpoints)
        order = self.endpoints[self._turn:] + self.endpoints[:self._turn]
        return min((e for e in order if e in ready), key=lambda e: e.in_flight)

    def record(self, endpoint: Endpoint, error: BaseException | None) -> None:
        """Count one finished call on ``endpoint`` (``error`` None: it succeeded)."""
        if error is None:
            endpoint.served += 1
            endpoint.streak = endpoint.cool_downs = 0
            return
        if not endpoint_fault(error):
            return
        endpoint.failed += 1
        endpoint.streak += 1
        now = self._clock()
        if endpoint.cooling_until <= now and endpoint.streak >= self.threshold:
            pause = min(self.max_cool_down, self.cool_down * 2 ** endpoint.cool_downs)
            endpoint.cooling_until = now + pause
            endpoint.cool_downs += 1
        if isinstance(error, TransientError) and any(e is not endpoint for e in self.available(now)):
            error.retry_after = 0.0  # another endpoint can take it now

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[Endpoint]:
        """An endpoint for one call; its outcome is recorded when the call ends."""
        endpoint = self.pick()
        endpoint.in_flight += 1
        try:
            yield endpoint
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.record(endpoint, exc)
            raise
        else:
            self.record(endpoint, None)
        finally:
            endpoint.in_flight -= 1
