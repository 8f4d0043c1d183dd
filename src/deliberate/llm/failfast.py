"""Stopping a stage whose requests all fail for one reason, before it sends them all.

A wrong API key, a model name the server does not know or a server that is not running fails
every request the same way; sending 10,000 of them only to write 10,000 failure lines wastes
time and hides the cause. The runner reports each finished request here:

* Until the first success, at most ``probe`` requests are in flight (a slow start costing one
  round trip), so a server that rejects everything receives a handful of requests, not
  ``concurrency`` of them.
* ``threshold`` finished requests in a row failing with the same stage-wide cause (see
  ``cause`` in :mod:`deliberate.llm.errors`: HTTP 401/403/404, or on every attempt
  connection refused, reset or closed, DNS failure, time-out) and no success yet stop the stage
  with :class:`StageAborted`.
  After a success, a longer run of such failures (``2 x concurrency``: a server that died or
  a key revoked mid-run) stops it too; a brief blip does not, since each request has retried.

Failures about one request (HTTP 400, an unparsable reply, 429 or 5xx after every retry) reset
the count: they are recorded and the stage goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from deliberate.llm.errors import StageAborted

THRESHOLD = 3
PROBE = 3


class FailFast:
    """Counts finished requests by outcome; decides when the stage must stop."""

    def __init__(self, concurrency: int, *, threshold: int = THRESHOLD, probe: int = PROBE) -> None:
        self.threshold = threshold
        self.after_success = max(threshold, 2 * concurrency)
        self.probe = probe
        self.finished = 0
        self.succeeded = False
        self.aborted: StageAborted | None = None
        self._cause: str | None = None
        self._streak = 0
        self._probing = 0
        self._changed: asyncio.Condition | None = None

    def record(self, ok: bool, cause: str | None, error: str | None) -> None:
        """Count one finished request; sets :attr:`aborted` when the stage must stop."""
        self.finished += 1
        if ok or cause is None:
            self.succeeded = self.succeeded or ok
            self._cause, self._streak = None, 0
            return
        self._streak = self._streak + 1 if cause == self._cause else 1
        self._cause = cause
        needed = self.after_success if self.succeeded else self.threshold
        if self._streak >= needed and self.aborted is None:
            self.aborted = StageAborted(f"stopped after {self.finished} requests: {error}")

    def check(self) -> None:
        if self.aborted is not None:
            raise self.aborted

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a probe slot until the first success; free passage after it."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        changed = self._changed
        async with changed:
            await changed.wait_for(lambda: self.succeeded or self._probing < self.probe
                                   or self.aborted is not None)
            self.check()
            probing = not self.succeeded
            self._probing += probing
        try:
            yield
        finally:
            async with changed:
                self._probing -= probing
                changed.notify_all()
