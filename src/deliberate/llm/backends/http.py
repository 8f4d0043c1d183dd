"""JSON over HTTP for chat completions, straight on aiohttp.

The openai package builds typed models for its whole API when imported (over a second on a
small machine, before the first request could leave) and sends through httpx on top of
aiohttp. Chat completions need neither: a JSON body out, a JSON body back. This client does
that on one pooled aiohttp session, with no limit of its own on connections (the runner
bounds concurrency) and no time-out of its own (the caller's deadline covers the whole
request); proxies come from the environment (``$HTTPS_PROXY``, ``$NO_PROXY``), as for the
openai client. Errors keep the shapes :mod:`~deliberate.llm.backends.openai_errors` reads: an
HTTP error status is an :class:`HTTPStatusError` (``status_code``, ``body``,
``response.headers`` as the openai client's), a failed connection is aiohttp's own exception,
with its cause. The Batch API (files, batches) still goes through the openai client, imported
only there.
"""

from __future__ import annotations

import json
import os
from types import SimpleNamespace
from typing import Any

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class HTTPStatusError(Exception):
    """A reply with an HTTP error status; ``body`` is its JSON (None if it was not JSON)."""

    def __init__(self, status: int, headers: Any, body: Any, text: str) -> None:
        super().__init__(f"HTTP {status}: {text}")
        self.status_code = status
        self.body = body
        self.message = text
        self.response = SimpleNamespace(headers=headers)


class JsonClient:
    """``POST``/``GET`` JSON at one base URL with a bearer key; create inside the event loop."""

    def __init__(self, base_url: str | None, api_key: str) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json",
                         "User-Agent": "deliberate"}
        self._session: Any = None
        self._proxy = env_proxy(self.base_url)

    def _get_session(self) -> Any:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=None), headers=self._headers)
        return self._session

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self.request("POST", path, json.dumps(body).encode("utf-8"))

    async def get(self, path: str) -> Any:
        return await self.request("GET", path)

    async def request(self, method: str, path: str, data: bytes | None = None) -> Any:
        """The reply's JSON; :class:`HTTPStatusError` for a status >= 400, ``ValueError`` for a
        body that is not JSON, aiohttp's errors for a failed connection."""
        headers = {"Content-Type": "application/json"} if data is not None else None
        async with self._get_session().request(method, self.base_url + path, data=data,
                                               headers=headers, proxy=self._proxy) as reply:
            raw = await reply.read()
            status, reply_headers = reply.status, reply.headers
        if status >= 400:
            text = raw.decode("utf-8", "replace")
            try:
                body = json.loads(text)
            except ValueError:
                body = None
            if isinstance(body, dict) and "error" in body:
                body = body["error"]
            raise HTTPStatusError(status, reply_headers, body, text)
        return json.loads(raw)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def env_proxy(url: str) -> str | None:
    """The proxy ``$HTTPS_PROXY``/``$HTTP_PROXY`` name for ``url``, unless ``$NO_PROXY`` exempts it.

    Looked up once per client (aiohttp's ``trust_env`` would look it up, and read ``~/.netrc``,
    in a thread for every request).
    """
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)
