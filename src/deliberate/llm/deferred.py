"""A stand-in backend for batch rounds: it answers nothing, it writes down what was asked.

A stage run in batch mode (:mod:`deliberate.llm.batchrounds`) is given a
:class:`DeferringBackend` in place of its model. The runner serves every request the response
cache holds before any backend sees it, so the requests that reach this backend are exactly
those still to be answered: each is appended to a spool file (one ``ModelRequest`` JSON a
line, so memory stays flat) and fails at once with :data:`DEFERRED`, a failure about that one
request (no retry, no fail-fast). Once the spool is answered into the cache, the stage runs
again and gets further: replies that do not parse are re-asked under new keys, which land in
the next spool. A request the batches already failed ``tries`` times, or one no spool is kept
for (``--batch-import`` alone), fails with "not answered by the batch" instead: the batch path
never makes a live call.

The backend's cache identity is pinned to the real backend's, learnt once, so every round keys
its requests exactly as the Batch API's ``custom_id`` and the imported answers do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from deliberate.llm.backend import Backend
from deliberate.llm.errors import PermanentError
from deliberate.llm.types import ModelRequest, ModelResponse

DEFERRED = "deferred to the batch"
UNANSWERED = "not answered by the batch"


class Ledger:
    """Requests the batches failed to answer: how many times, and the last reason why."""

    def __init__(self) -> None:
        self.failures: dict[str, tuple[int, str]] = {}

    def add(self, failed: Iterable[tuple[str, str]]) -> None:
        for key, why in failed:
            count, _ = self.failures.get(key, (0, ""))
            self.failures[key] = (count + 1, why)

    def tries(self, key: str) -> int:
        return self.failures.get(key, (0, ""))[0]

    def reason(self, key: str) -> str:
        count, why = self.failures.get(key, (0, ""))
        if not count:
            return UNANSWERED
        rounds = f"{count} batch round{'s' if count > 1 else ''}"
        return f"{UNANSWERED} ({rounds}): {why}"


class DeferringBackend:
    """Stands in for ``inner`` during a batch round; see the module docstring.

    Args:
        identity: ``inner``'s cache identity (without ``--revision``), learnt beforehand.
        key_identity: the identity keys are made with (with ``--revision``): the ledger's keys.
        spool: where deferred requests are appended; None refuses every request.
        tries: batch failures after which a request is refused rather than deferred again.
    """

    batch_size = 1
    default_concurrency = 64
    remote = False  # nothing is sent: no deadlines to keep

    def __init__(self, inner: Backend, identity: str, key_identity: str, *,
                 spool: Path | None, ledger: Ledger, tries: int) -> None:
        self.inner = inner
        self.ref = inner.ref
        self.cache_ref = inner.cache_ref
        self._identity = identity
        self._key_identity = key_identity
        self.spool = spool
        self.ledger = ledger
        self.tries = tries
        self.deferred = 0
        self.refused = 0
        self._handle: IO[bytes] | None = None

    async def cache_identity(self) -> str:
        return self._identity

    async def generate(self, batch: list[ModelRequest]) -> list[ModelResponse]:
        for request in batch:
            key = request.cache_key(self._key_identity)
            if self.spool is None or self.ledger.tries(key) >= self.tries:
                self.refused += 1
                raise PermanentError(self.ledger.reason(key))
            if self._handle is None:
                self.spool.parent.mkdir(parents=True, exist_ok=True)
                self._handle = open(self.spool, "wb")  # noqa: SIM115, ASYNC230 - closed in close()
            # json.dumps, not model_dump_json: with the latter, generate's 3,000-prompt spool
            # kept 66 MB alive (tracemalloc: every line's JSON, allocated in pydantic-core)
            line = json.dumps(request.model_dump(), ensure_ascii=False).encode("utf-8")
            self._handle.write(line + b"\n")
            self.deferred += 1
        raise PermanentError(DEFERRED)

    async def aclose(self) -> None:
        """The stage closes its backend after each run; the spool stays open for the next."""
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def requests(self) -> Iterator[ModelRequest]:
        """The deferred requests, read back one line at a time."""
        self.close()
        if self.spool is None or not self.spool.exists():
            return
        with open(self.spool, "rb") as handle:
            for line in handle:
                yield ModelRequest.model_validate_json(line)
