"""What the batch runner needs from a model backend (OpenAI-compatible server, local model, vLLM)."""

from __future__ import annotations

from typing import Protocol

from deliberate.llm.types import ModelRequest, ModelResponse


class Backend(Protocol):
    """What the runner needs from a model backend."""

    ref: str
    #: The part of the cache identity known without asking anyone: ``ref`` for a served model;
    #: for local weights, ``ref`` plus a fingerprint of the weight files (retraining into the
    #: same folder is a new model).
    cache_ref: str
    batch_size: int
    default_concurrency: int
    #: A server: each call gets a deadline and each request a time budget (``BackendOptions``
    #: ``timeout`` and ``request_budget``). Local models run as long as generation takes.
    remote: bool

    async def cache_identity(self) -> str:
        """What cached replies are keyed by, awaited once per run before any key is made.

        Local models: ``cache_ref``. A server: its model, endpoint and, where the server
        reports it, the weights it serves, so two servers (or two checkpoints served under one
        name) never share cached answers.
        """
        ...

    async def generate(self, batch: list[ModelRequest]) -> list[ModelResponse]: ...

    async def aclose(self) -> None: ...
