"""A scripted OpenAI-compatible chat-completions server on loopback, for tests and benchmarks.

Why it exists: the toolkit talks to model APIs through the OpenAI protocol, and we need to
exercise that path (concurrency, retries, malformed replies, kill-and-resume) without a
network, an API key or a GPU. The server runs an aiohttp app on ``127.0.0.1`` in a background
thread with its own event loop, so both plain synchronous pytest code and asyncio code (on any
other loop) can call it.

Typical use::

    with LoopbackServer(latency=0.1, faults=FaultPlan(rate=0.2)) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="x")
        ...
        print(srv.received, srv.served, srv.faults_injected)

It is also a script (``python tests/support/loopback.py --port 8123``) so tests can run it in
a subprocess and kill it, see ``main``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from aiohttp import web

try:
    from support.batches import BatchEndpoints
except ImportError:  # run as a script: tests/support is the script's own folder
    from batches import BatchEndpoints  # type: ignore[no-redef]

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ALL_FAULT_KINDS",
    "FAULT_KINDS",
    "FaultPlan",
    "LoopbackServer",
    "Reply",
    "Responder",
    "Scripted",
    "echo_responder",
    "main",
    "scripted",
]

FAULT_KINDS: tuple[str, ...] = ("429", "500", "timeout", "garbage")
"""The transient kinds a random :class:`FaultPlan` draws from by default."""

HOSTILE_KINDS: tuple[str, ...] = ("hang", "trickle", "reset", "401", "404", "empty")
ALL_FAULT_KINDS: tuple[str, ...] = FAULT_KINDS + HOSTILE_KINDS
"""Every fault the server can inject (hostile kinds are only injected when asked for)."""

# A body that claims to be JSON but is cut off, like a proxy dropping the connection mid-reply.
# It is sent as application/json on purpose: the openai client then fails to decode it (raising
# json.JSONDecodeError) instead of silently handing back the raw text, which is what it does for
# non-JSON content types.
GARBAGE_BODY = '{"id": "chatcmpl-garbage", "object": "chat.completion", "choices": [{"mess'


@dataclass
class Reply:
    """What the server answers to one request.

    ``content`` is the assistant message; ``reasoning`` (if set) goes out as the
    ``reasoning_content`` field that reasoning-model servers (vLLM, DeepSeek) add. A non-200
    ``status`` sends an OpenAI-style error JSON whose message is ``content``; ``raw_body`` is
    sent verbatim with ``status`` and ``headers`` to simulate broken servers.
    """

    content: str
    reasoning: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None


Responder = Callable[[dict[str, Any]], str | Reply]


@dataclass(frozen=True)
class FaultPlan:
    """Random, reproducible transient faults.

    Each request independently gets a fault with probability ``rate``; the kind is drawn
    uniformly from ``kinds``. Draws come from one ``random.Random(seed)`` behind a lock, so the
    *sequence* of faults is fixed for a seed (which request receives which fault still depends
    on arrival order under concurrency).

    Kinds: ``"429"`` (with ``Retry-After: retry_after`` seconds unless ``retry_after`` is None),
    ``"500"`` (error JSON), ``"timeout"`` (sleep ``hang_s`` before answering, so the client's
    timeout fires first) and ``"garbage"`` (200 with a truncated, undecodable JSON body).

    Hostile kinds, for reliability tests: ``"hang"`` (never answer), ``"trickle"`` (send the
    status line and headers of a normal reply, then its body one byte every ``trickle_s``
    seconds), ``"reset"`` (abort the TCP connection with an RST, no reply at all), ``"401"``
    (invalid API key; the message echoes the bearer token, as careless proxies do, so redaction
    is exercised), ``"404"`` (``model_not_found``) and ``"empty"`` (200 with ``choices: []``).

    ``first``: only the first ``first`` requests the server receives are eligible for a fault,
    so ``FaultPlan(rate=1.0, kinds=("429",), first=2)`` means "two 429s, then success".
    """

    rate: float
    kinds: Sequence[str] = FAULT_KINDS
    seed: int = 0
    retry_after: float | None = 0.05
    hang_s: float = 30.0
    trickle_s: float = 2.0
    first: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be in [0, 1], got {self.rate}")
        unknown = [k for k in self.kinds if k not in ALL_FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(
                f"fault kinds must be a non-empty subset of {ALL_FAULT_KINDS}, got {self.kinds}"
            )


def _text_of(content: Any) -> str:
    """Flatten message content: a plain string or a list of ``{"type": "text"}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _words(text: str | None) -> int:
    """Whitespace word count, our stand-in for a tokenizer (only the schema matters here)."""
    return len(text.split()) if text else 0


def _last_user_message(body: Mapping[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def echo_responder(body: dict[str, Any]) -> str:
    """Default responder: ``"echo: <last user message>"``, so tests can see what was sent."""
    return f"echo: {_last_user_message(body)}"


class Scripted:
    """Responder that dispatches on the request's ``model`` field (see ``scripted``).

    Requests for a model not in the script get a 404 ``model_not_found`` error, as the real
    API does; that makes a typo in a test fail loudly instead of returning a wrong reply.
    """

    def __init__(self, by_model: Mapping[str, Responder | str | Reply]) -> None:
        self._by_model = dict(by_model)

    @property
    def models(self) -> list[str]:
        """Model names in the script; the server lists them on ``GET /v1/models``."""
        return list(self._by_model)

    def __call__(self, body: dict[str, Any]) -> str | Reply:
        model = body.get("model")
        if model not in self._by_model:
            return Reply(content=f"The model `{model}` does not exist", status=404)
        entry = self._by_model[model]
        if isinstance(entry, (str, Reply)):
            return entry
        return entry(body)


def scripted(by_model: Mapping[str, Responder | str | Reply]) -> Scripted:
    """Build a responder picking the reply by ``body["model"]``.

    A string (or ``Reply``) value is returned as is; a callable gets the request body.
    """
    return Scripted(by_model)


def _error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


class LoopbackServer:
    """OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1, in a background thread.

    Args:
        responder: decides each reply; defaults to ``echo_responder``.
        latency: seconds every request waits (``asyncio.sleep``, so requests overlap freely)
            before it is answered, to model a slow model server.
        faults: transient faults to inject, or None.
        fail_permanently: requests for which it returns True get a 400
            ``invalid_request_error`` (a permanent error that must not be retried).
        models: extra model names for ``GET /v1/models``.
        root: if set, every model listed on ``GET /v1/models`` carries ``"root": root``, as
            vLLM reports the weights it serves; assign ``server.root`` to simulate a checkpoint
            swap behind the same model name.
        port: TCP port; 0 picks a free one.
        log_path: if set, one JSON line ``{"model", "messages"}`` is appended (and flushed) per
            received request, so a test can count requests across server processes.
        batch_delay: seconds a batch stays ``in_progress`` on the Batch API (``/v1/files``,
            ``/v1/batches``, see :mod:`support.batches`) before it is answered; its lines
            are answered like chat requests, failing those ``fail_permanently`` picks (400) and
            those ``faults`` draws a fault for (500).
        keep_requests: False keeps no request bodies (``requests`` stays empty): for
            benchmarks sending millions of requests.

    Attributes (safe to read from any thread):
        requests: every received JSON request body, in arrival order.
        received: number of HTTP requests to ``/v1/chat/completions``.
        model_listings: number of ``GET /v1/models`` requests.
        served: number of successful 200 chat-completion JSON replies.
        batch: the Batch API's state: ``batch.uploads``, ``batch.created`` (batches
            submitted), ``batch.polls``, ``batch.batches``.
        faults_injected: how many faults of each kind were injected (permanent 400s count
            under ``"400"``).
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        fail_permanently: Callable[[dict[str, Any]], bool] | None = None,
        models: Sequence[str] = (),
        root: str | None = None,
        port: int = 0,
        log_path: str | Path | None = None,
        batch_delay: float = 0.0,
        keep_requests: bool = True,
    ) -> None:
        self.responder: Responder = responder or echo_responder
        self.latency = latency
        self.faults = faults
        self.fail_permanently = fail_permanently
        self.root = root
        self.port = port
        self.log_path = Path(log_path) if log_path is not None else None
        self.keep_requests = keep_requests
        self.batch = BatchEndpoints(self._batch_answer, batch_delay)

        self.requests: list[dict[str, Any]] = []
        self.received = 0
        self.model_listings = 0
        self.served = 0
        self.sleeping = 0
        self.peak_sleeping = 0  # most chat requests inside their latency wait at once
        self.faults_injected: Counter[str] = Counter()

        self._models: list[str] = list(models) + list(getattr(self.responder, "models", []))
        self._lock = threading.Lock()
        self._rng = random.Random(faults.seed if faults else 0)
        self._log_file: IO[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: pass it as ``base_url`` to an OpenAI client."""
        if self._thread is None:
            raise RuntimeError("LoopbackServer is not running; call start() first")
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Self:
        """Start listening; returns once the port is bound (re-raising any startup error)."""
        if self._thread is not None:
            raise RuntimeError("LoopbackServer already started")
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path.open("a", encoding="utf-8")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._setup())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(
            target=run, name=f"loopback-server-{id(self):x}", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            self._loop = None
            self._close_log()
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the listener, cancel in-flight handlers (e.g. hung ``timeout`` faults), join."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._teardown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None
        self._close_log()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    async def _setup(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle_chat)
        app.router.add_get("/v1/models", self._handle_models)
        self.batch.add_routes(app)
        # access_log=None: no per-request logging work. handler_cancellation: a client that
        # gives up (timeout fault) cancels its handler instead of leaving it sleeping, and a
        # short shutdown_timeout keeps stop() fast. aiohttp itself puts no cap on concurrent
        # handlers; the large backlog keeps bursts of new connections from being refused.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=4096)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _teardown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------- handlers

    async def _handle_models(self, request: web.Request) -> web.Response:
        with self._lock:
            self.model_listings += 1
            names = list(dict.fromkeys(self._models))
            root = self.root
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "loopback"} for n in names]
        if root is not None:
            for entry in data:
                entry["root"] = root
        return web.json_response({"object": "list", "data": data})

    def _record(self, body: Any) -> str | None:
        """Count and log one request; returns the fault to inject (or None). Runs under lock."""
        with self._lock:
            self.received += 1
            if not isinstance(body, dict):
                return None
            if self.keep_requests:
                self.requests.append(body)
            model = body.get("model")
            if isinstance(model, str) and model not in self._models:
                self._models.append(model)
            if self._log_file is not None:
                line = {"model": model, "messages": body.get("messages")}
                self._log_file.write(json.dumps(line) + "\n")
                self._log_file.flush()
            if self.faults is None:
                return None
            if self.faults.first is not None and self.received > self.faults.first:
                return None
            if self._rng.random() < self.faults.rate:
                return self._rng.choice(list(self.faults.kinds))
            return None

    def _batch_answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One line of a batch: (status, reply JSON), with the server's failures and faults."""
        if self.fail_permanently is not None and self.fail_permanently(body):
            self._count_fault("400")
            return 400, _error_body("bad request", "invalid_request_error")
        with self._lock:
            fault = self.faults is not None and self._rng.random() < self.faults.rate
        if fault:
            self._count_fault("batch")
            return 500, _error_body("internal server error (injected fault)", "server_error")
        result = self.responder(body)
        reply = result if isinstance(result, Reply) else Reply(content=str(result))
        with self._lock:
            self.served += 1
        return 200, self._completion(body, reply)

    def _count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults_injected[kind] += 1

    async def _handle_chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            body = None
        fault = self._record(body)
        if not isinstance(body, dict):
            return web.json_response(
                _error_body("request body is not a JSON object", "invalid_request_error"),
                status=400,
            )
        if self.latency > 0:
            self.sleeping += 1
            self.peak_sleeping = max(self.peak_sleeping, self.sleeping)
            try:
                await asyncio.sleep(self.latency)
            finally:
                self.sleeping -= 1

        if self.fail_permanently is not None and self.fail_permanently(body):
            self._count_fault("400")
            return web.json_response(
                {"error": {"message": "bad request", "type": "invalid_request_error"}}, status=400
            )
        if fault is not None:
            return await self._inject(fault, body, request)

        try:
            result = self.responder(body)
        except Exception as exc:  # noqa: BLE001 - a broken test responder must show up as a 500
            return web.json_response(
                _error_body(f"responder raised {exc!r}", "server_error"), status=500
            )
        reply = result if isinstance(result, Reply) else Reply(content=str(result))
        return self._respond(body, reply)

    async def _inject(
        self, kind: str, body: dict[str, Any], request: web.Request
    ) -> web.StreamResponse:
        assert self.faults is not None
        self._count_fault(kind)
        if kind in HOSTILE_KINDS:
            return await self._hostile(kind, body, request)
        if kind == "429":
            headers = {}
            if self.faults.retry_after is not None:
                headers["Retry-After"] = f"{self.faults.retry_after:g}"
            return web.json_response(
                _error_body("rate limited (injected fault)", "requests", "rate_limit_exceeded"),
                status=429,
                headers=headers,
            )
        if kind == "500":
            return web.json_response(
                _error_body("internal server error (injected fault)", "server_error"), status=500
            )
        if kind == "garbage":
            return web.Response(text=GARBAGE_BODY, content_type="application/json")
        # "timeout": the client should give up long before this; if it does not, answer late.
        await asyncio.sleep(self.faults.hang_s)
        return self._respond(body, Reply(content=echo_responder(body)))

    async def _hostile(
        self, kind: str, body: dict[str, Any], request: web.Request
    ) -> web.StreamResponse:
        assert self.faults is not None
        if kind == "hang":  # until the client gives up (which cancels this handler) or stop()
            await asyncio.Event().wait()
        if kind == "trickle":
            return await self._trickle(body, request)
        if kind == "reset":
            _reset(request)
            raise asyncio.CancelledError  # nothing more to send on an aborted connection
        if kind == "401":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            return web.json_response(
                _error_body(f"Incorrect API key provided: {token}", "invalid_request_error",
                            "invalid_api_key"), status=401)
        if kind == "404":
            return web.json_response(
                _error_body(f"The model `{body.get('model')}` does not exist.",
                            "invalid_request_error", "model_not_found"), status=404)
        # "empty": a well-formed completion with no choices
        return web.json_response({"id": "chatcmpl-empty", "object": "chat.completion",
                                  "created": int(time.time()), "model": body.get("model"),
                                  "choices": [], "usage": None})

    async def _trickle(self, body: dict[str, Any], request: web.Request) -> web.StreamResponse:
        """A normal reply whose body arrives one byte every ``trickle_s`` seconds."""
        assert self.faults is not None
        payload = json.dumps(self._completion(body, Reply(content=echo_responder(body)))).encode()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.content_length = len(payload)
        await response.prepare(request)
        for i in range(len(payload)):
            await response.write(payload[i:i + 1])
            await asyncio.sleep(self.faults.trickle_s)
        await response.write_eof()
        return response

    def _respond(self, body: dict[str, Any], reply: Reply) -> web.StreamResponse:
        if reply.raw_body is not None:
            headers = {"Content-Type": "text/plain", **reply.headers}
            return web.Response(text=reply.raw_body, status=reply.status, headers=headers)
        if reply.status != 200:
            type_ = "invalid_request_error" if 400 <= reply.status < 500 else "server_error"
            return web.json_response(
                _error_body(reply.content, type_), status=reply.status, headers=reply.headers
            )
        payload = self._completion(body, reply)
        with self._lock:
            self.served += 1
        return web.json_response(payload, headers=reply.headers)

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.reasoning is not None:
            message["reasoning_content"] = reply.reasoning
        prompt_tokens = sum(
            _words(_text_of(m.get("content")))
            for m in body.get("messages") or []
            if isinstance(m, dict)
        )
        completion_tokens = _words(reply.content) + _words(reply.reasoning)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or "loopback",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def _reset(request: web.Request) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), as a crashing proxy would."""
    import socket
    import struct

    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


# --------------------------------------------------------------------- script mode


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the echo responder until killed; prints ``READY <base_url>`` once listening.

    Used by kill-and-resume tests that need a server in another process (so the client side
    can be killed and restarted independently, and requests counted via ``--log``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: pick a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="transient fault rate")
    parser.add_argument(
        "--fault-kinds", default=",".join(FAULT_KINDS), help="comma-separated fault kinds"
    )
    parser.add_argument("--seed", type=int, default=0, help="fault RNG seed")
    parser.add_argument("--hang-s", type=float, default=30.0, help="'timeout' fault duration")
    parser.add_argument("--fault", default=None, choices=ALL_FAULT_KINDS,
                        help="inject this fault into every request (or the first --fault-first)")
    parser.add_argument("--fault-first", type=int, default=None,
                        help="only the first N requests get a fault")
    parser.add_argument("--trickle-s", type=float, default=2.0, help="'trickle' byte interval")
    parser.add_argument("--root", default=None, help="weights path reported on GET /v1/models")
    parser.add_argument("--models", default="", help="comma-separated names GET /v1/models lists")
    parser.add_argument("--log", type=Path, default=None, help="append one JSON line per request")
    parser.add_argument("--batch-delay", type=float, default=0.0,
                        help="seconds a Batch API batch runs before it is answered")
    args = parser.parse_args(argv)

    faults = None
    common = {"seed": args.seed, "hang_s": args.hang_s, "trickle_s": args.trickle_s,
              "first": args.fault_first}
    if args.fault is not None:
        faults = FaultPlan(rate=1.0, kinds=(args.fault,), **common)
    elif args.fault_rate > 0:
        kinds = tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip())
        faults = FaultPlan(rate=args.fault_rate, kinds=kinds, **common)

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with LoopbackServer(
        latency=args.latency, faults=faults, root=args.root, port=args.port, log_path=args.log,
        models=[m for m in args.models.split(",") if m], batch_delay=args.batch_delay,
        keep_requests=False,
    ) as srv:
        print(f"READY {srv.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
