"""Any OpenAI-compatible chat-completions server: OpenAI, vLLM, SGLang, Ollama, llama.cpp.

Chat completions go as plain JSON over aiohttp (:mod:`~deliberate.llm.backends.http`: the
openai package takes over a second to import, and its typed layer costs CPU per request); the
Batch API uses the official client (:meth:`OpenAIBackend.openai_client`). There are no
retries in the client: the batch runner retries with backoff that honours ``Retry-After``, and
counts every attempt. Each call has a deadline for the whole request (``deadline.within``, so
a trickling server times out like a silent one), and failures are named by what happened
(:mod:`~deliberate.llm.backends.openai_errors`).

Several base URLs (replicas serving one model) share the load: each request goes to the one
with the fewest in flight, and one that keeps failing is set aside for a while
(:mod:`~deliberate.llm.backends.endpoints`). Their cache identity does not depend on which one
answered (:meth:`OpenAIBackend.cache_identity`).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.llm.backends.endpoints import Endpoint, EndpointPool
from deliberate.llm.backends.http import HTTPStatusError, JsonClient
from deliberate.llm.backends.openai_errors import (
    Where,
    connection_error,
    normalise_endpoint,
    one_line,
    status_error,
)
from deliberate.llm.deadline import within
from deliberate.llm.errors import PermanentError, TransientError, redact
from deliberate.llm.options import endpoint_urls
from deliberate.llm.reasoning import split_reasoning
from deliberate.llm.types import ModelRequest, ModelResponse, Usage

IDENTITY_TIMEOUT = 10.0
"""Most seconds spent asking the server which weights it serves (``GET /models``)."""
CONCURRENCY_PER_ENDPOINT = 64


class OpenAIBackend:
    """One request per call; concurrency comes from the runner."""

    batch_size = 1
    remote = True

    def __init__(
        self,
        model: str,
        *,
        base_url: str | list[str] | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 300.0,
        extra_body: dict[str, Any] | None = None,
        reasoning_budget_field: str | None = None,
    ) -> None:
        self.model = model
        self.ref = f"openai/{model}"
        self.cache_ref = self.ref  # a served model has no weight files here to fingerprint
        urls = endpoint_urls(base_url) or endpoint_urls(os.environ.get("OPENAI_BASE_URL"))
        self.base_url = urls[0] if urls else None
        self._api_key = os.environ.get(api_key_env) or ("EMPTY" if urls else None)
        if self._api_key is None:
            raise DeliberateError(
                f"model '{self.ref}': set {api_key_env} (or --base-url for a local server)"
            )
        self.pool = EndpointPool(urls or [None])  # type: ignore[list-item]
        for endpoint in self.pool.endpoints:
            where = Where(normalise_endpoint(endpoint.url), self.ref, api_key_env, [self._api_key])
            endpoint.state.update(where=where, http=None, client=None)
        self.endpoint = ", ".join(e.state["where"].endpoint for e in self.pool.endpoints)
        self.default_concurrency = CONCURRENCY_PER_ENDPOINT * len(self.pool.endpoints)
        self.timeout = timeout
        self.extra_body = extra_body or {}
        self.reasoning_budget_field = reasoning_budget_field

    def _http(self, endpoint: Endpoint) -> JsonClient:
        """The endpoint's JSON client (its aiohttp session is made in the running loop)."""
        if endpoint.state["http"] is None:
            endpoint.state["http"] = JsonClient(endpoint.url, self._api_key)  # type: ignore[arg-type]
        return endpoint.state["http"]

    def openai_client(self, endpoint: Endpoint | None = None) -> Any:
        """The official async client for ``endpoint`` (the first): the Batch API uses it."""
        endpoint = endpoint or self.pool.endpoints[0]
        if endpoint.state["client"] is None:
            from openai import AsyncOpenAI

            endpoint.state["client"] = AsyncOpenAI(
                base_url=endpoint.url,
                api_key=self._api_key,
                timeout=self.timeout,
                max_retries=0,
                http_client=_http_client(self.timeout),
            )
        return endpoint.state["client"]

    async def cache_identity(self) -> str:
        """What answers are keyed by; never which replica gave them.

        One endpoint: ``openai/<model>|endpoint=<url>``, plus ``|root=<weights>`` where the
        server lists the model with a ``root`` (vLLM does: the path or hub id it loaded).
        Several: ``openai/<model>|root=<weights>`` when those that answer ``GET /models``
        report one root (adding or losing a replica keeps the cache; different roots are an
        error: the replicas serve different weights), else ``|endpoints=<sorted URLs>``.
        """
        endpoints = self.pool.endpoints
        if len(endpoints) == 1:
            root = await self._served_root(endpoints[0])
            identity = f"{self.ref}|endpoint={endpoints[0].state['where'].endpoint}"
            return f"{identity}|root={root}" if root else identity
        roots = {r for r in await asyncio.gather(*map(self._served_root, endpoints)) if r}
        if len(roots) > 1:
            raise DeliberateError(f"the endpoints of {self.ref} serve different weights "
                                  f"({', '.join(sorted(roots))}); give one model's replicas")
        if roots:
            return f"{self.ref}|root={roots.pop()}"
        urls = sorted({e.state["where"].endpoint for e in endpoints})
        return f"{self.ref}|endpoints={','.join(urls)}"

    async def _served_root(self, endpoint: Endpoint) -> str | None:
        """The ``root`` of our model on ``GET /models``; None if the server has no such listing."""
        try:
            listing = await within(self._http(endpoint).get("/models"),
                                   min(self.timeout, IDENTITY_TIMEOUT))
        except Exception:  # noqa: BLE001 - no listing (or no server): identify by endpoint alone
            return None
        entries = listing.get("data") if isinstance(listing, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("id") == self.model:
                root = entry.get("root")
                return root if isinstance(root, str) and root else None
        return None

    async def generate(self, batch: list[ModelRequest]) -> list[ModelResponse]:
        return [await self._one(request) for request in batch]

    async def _one(self, request: ModelRequest) -> ModelResponse:
        body = self.body(request)
        async with self.pool.lease() as endpoint:
            return await self._call(endpoint, body)

    def body(self, request: ModelRequest) -> dict[str, Any]:
        return chat_body(self.model, request, self.extra_body, self.reasoning_budget_field)

    async def _call(self, endpoint: Endpoint, body: dict[str, Any]) -> ModelResponse:
        """POST /chat/completions to ``endpoint`` within the deadline; errors in one line."""
        import aiohttp

        where: Where = endpoint.state["where"]
        try:
            completion = await within(self._http(endpoint).post("/chat/completions", body),
                                      self.timeout)
        except HTTPStatusError as exc:
            raise status_error(exc, where) from None
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise connection_error(exc, where, self.timeout) from None
        except ValueError as exc:
            raise unparsable(where, f"malformed JSON ({one_line(str(exc))})") from None
        return to_response(completion, self.ref, lambda what: unparsable(where, what))

    async def aclose(self) -> None:
        for endpoint in self.pool.endpoints:
            for name in ("http", "client"):
                if endpoint.state[name] is not None:
                    await endpoint.state[name].close()
                    endpoint.state[name] = None


def chat_body(model: str, request: ModelRequest, extra_body: dict[str, Any] | None = None,
              reasoning_budget_field: str | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``request`` (online or in a batch)."""
    cfg = request.config
    body: dict[str, Any] = {
        "model": model,
        "messages": [m.model_dump(exclude_none=True) for m in request.messages],
        "temperature": cfg.temperature,
        "top_p": cfg.top_p,
        "max_tokens": cfg.max_tokens,
    }
    if cfg.seed is not None:
        body["seed"] = cfg.seed
    if cfg.stop:
        body["stop"] = list(cfg.stop)
    if cfg.reasoning_budget is not None:
        if not reasoning_budget_field:
            raise PermanentError("a reasoning budget needs the server's field for it "
                                 "(--reasoning-budget-field); none is common to all servers")
        body[reasoning_budget_field] = cfg.reasoning_budget
    body.update(extra_body or {})
    return body


def unparsable(where: Where, what: str) -> TransientError:
    return TransientError(redact(f"unparsable response from {where.endpoint}: {what}",
                                 where.secrets))


def _http_client(timeout: float) -> Any:
    """The openai client's aiohttp transport where installed, else httpx.

    Measured here: 1,000 requests at concurrency 128 against a 0.5 s server took 27 s through
    httpx's pool and 5.5 s through aiohttp (ideal 4 s), so aiohttp is the default.
    """
    try:
        from openai import DefaultAioHttpClient

        return DefaultAioHttpClient(timeout=timeout)
    except (ImportError, RuntimeError):
        import httpx

        limits = httpx.Limits(max_connections=1024, max_keepalive_connections=256)
        return httpx.AsyncClient(limits=limits, timeout=timeout)


def to_response(completion: Any, ref: str, unparsable: Any) -> ModelResponse:
    """Read a chat-completion JSON reply; anything else is a transient (unparsable) error."""
    if not isinstance(completion, dict) or "choices" not in completion:
        raise unparsable("not a chat completion")
    choices = completion["choices"]
    if not isinstance(choices, list) or not choices:
        raise unparsable("no choices in the reply")
    if not isinstance(choices[0], dict) or not isinstance(choices[0].get("message"), dict):
        raise unparsable("its first choice has no message")
    choice = choices[0]
    message = choice["message"]
    field = message.get("reasoning_content") or message.get("reasoning")
    split = split_reasoning(message.get("content"), field if isinstance(field, str) else None)
    usage = completion.get("usage") or {}
    return ModelResponse(
        content=split.content,
        reasoning=split.reasoning,
        reasoning_format=split.format,
        finish_reason=choice.get("finish_reason"),
        usage=Usage(
            input_tokens=usage.get("prompt_tokens") or 0,
            output_tokens=usage.get("completion_tokens") or 0,
        ),
        model=ref,
    )
