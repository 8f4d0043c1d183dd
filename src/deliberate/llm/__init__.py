"""Model backends behind one interface, with the cached, concurrent, resumable batch runner.

Use :func:`get_backend` for a ``provider/model`` ref and :func:`generate` to run requests::

    results = generate(requests, "openai/my-model", BackendOptions(base_url="http://localhost:8000/v1"))

or :func:`iter_results` to stream any number of them (a lazy iterable) with bounded memory::

    with iter_results(requests, "openai/my-model", options) as results:
        for result in results:  # in input order
            ...
"""

from __future__ import annotations

from deliberate.llm.backend import Backend
from deliberate.llm.errors import StageAborted
from deliberate.llm.options import BackendOptions
from deliberate.llm.refs import ModelRef, get_backend, parse_model_ref
from deliberate.llm.runner import RunOutput, generate, run_requests
from deliberate.llm.stream import RequestStream, ResultIterator, iter_results
from deliberate.llm.types import (
    ChatMessage,
    ModelRequest,
    ModelResponse,
    ModelResult,
    ReasoningFormat,
    SamplingConfig,
    Usage,
)
from deliberate.llm.usage import ModelUsage, UsageReport

__all__ = [
    "Backend",
    "BackendOptions",
    "ChatMessage",
    "ModelRef",
    "ModelRequest",
    "ModelResponse",
    "ModelResult",
    "ModelUsage",
    "ReasoningFormat",
    "RequestStream",
    "ResultIterator",
    "RunOutput",
    "SamplingConfig",
    "StageAborted",
    "Usage",
    "UsageReport",
    "generate",
    "get_backend",
    "iter_results",
    "parse_model_ref",
    "run_requests",
]
