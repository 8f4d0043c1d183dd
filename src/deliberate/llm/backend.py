"""What the batch runner needs from a model backend (OpenAI-compatible server, local model, vLLM)."""

from __future__ import annotations

from typing import Protocol

from deliberate.llm.types import ModelRequest, ModelResponse


class Backend(Protocol):
    """What the runner needs from a model backend."""

    ref: str
    #: What cached replies are keyed by: ``ref`` for a served model; for local weights, ``ref``
    #: plus a fingerprint of the weight files (retraining into the same folder is a new model).
    cache_ref: str
    batch_size: int
    default_concurrency: int

    async def generate(self, batch: list[ModelRequest]) -> list[ModelResponse]: ...

    async def aclose(self) -> None: ...
