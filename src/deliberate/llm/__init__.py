"""Model backends behind one interface, with the cached, concurrent, resumable batch runner.

Use :func:`get_backend` for a ``provider/model`` ref and :func:`generate` to run requests::

    results = generate(requests, "openai/my-model", BackendOptions(base_url="http://localhost:8000/v1"))
"""

from __future__ import annotations

from deliberate.llm.backend import Backend
from deliberate.llm.errors import StageAborted
from deliberate.llm.options import BackendOptions
from deliberate.llm.refs import ModelRef, get_backend, parse_model_ref
from deliberate.llm.runner import RunOutput, generate, run_requests
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
    "RunOutput",
    "SamplingConfig",
    "StageAborted",
    "Usage",
    "UsageReport",
    "generate",
    "get_backend",
    "parse_model_ref",
    "run_requests",
]
