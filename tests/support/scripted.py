"""A scripted backend for stage tests: replies decided by a function of the request.

It is a test double passed where a model ref would go (stages accept a backend object), so
stage logic can be tested without a server; the CLI tests use the loopback HTTP server instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from deliberate.llm.errors import PermanentError, TransientError
from deliberate.llm.reasoning import split_reasoning
from deliberate.llm.types import ModelRequest, ModelResponse

Reply = str | ModelResponse | Exception


class ScriptedBackend:
    batch_size = 1
    default_concurrency = 4
    remote = True  # stands in for a server: calls get the runner's deadlines

    def __init__(self, responder: Callable[[ModelRequest], Reply], ref: str = "test/scripted",
                 transient: dict[str, int] | None = None, permanent: set[str] | None = None,
                 hang: set[str] | None = None) -> None:
        self.responder = responder
        self.ref = ref
        self.cache_ref = ref
        self.transient = dict(transient or {})
        self.permanent = permanent or set()
        self.hang = hang or set()  # ids that never get an answer (the runner's deadline ends them)
        self.requests: list[ModelRequest] = []
        self.in_flight = 0
        self.peak = 0

    @property
    def calls(self) -> list[str]:
        return [r.id for r in self.requests]

    async def generate(self, batch: list[ModelRequest]) -> list[ModelResponse]:
        (request,) = batch
        self.requests.append(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            if request.id in self.hang:
                await asyncio.Event().wait()
            if request.id in self.permanent:
                raise PermanentError("HTTP 400: bad request")
            if self.transient.get(request.id, 0) > 0:
                self.transient[request.id] -= 1
                raise TransientError("HTTP 429", retry_after=0.0)
            reply = self.responder(request)
            if isinstance(reply, Exception):
                raise reply
            if isinstance(reply, str):
                split = split_reasoning(reply)
                reply = ModelResponse(content=split.content, reasoning=split.reasoning,
                                      reasoning_format=split.format, model=self.ref)
            return [reply]
        finally:
            self.in_flight -= 1

    async def cache_identity(self) -> str:
        return self.cache_ref

    async def aclose(self) -> None:
        return None


def last_user(request: ModelRequest) -> str:
    return [m.content for m in request.messages if m.role == "user"][-1]


def system_text(request: ModelRequest) -> str:
    return "\n".join(m.content for m in request.messages if m.role == "system")


def identity_of(backend: object) -> str:
    """``await backend.cache_identity()`` in a loop of its own, closing the backend after."""

    async def ask() -> str:
        try:
            return await backend.cache_identity()  # type: ignore[attr-defined]
        finally:
            await backend.aclose()  # type: ignore[attr-defined]

    return asyncio.run(ask())
