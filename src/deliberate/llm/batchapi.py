"""OpenAI's Batch API: half the price, answers within a day, resumable across processes.

:func:`run_batch` writes the requests the cache lacks as batch JSONL files in a folder the
caller gives (:mod:`deliberate.llm.batchfile`: split at 50,000 requests / 200 MB), uploads each
(``POST /files``, purpose ``batch``), creates a batch for it (``POST /batches``), polls them with
a progress bar until they end or ``deadline`` seconds pass (``GET /batches/{id}``: status and
``request_counts``), then downloads their output and error files (``GET /files/{id}/content``,
streamed to the folder) and imports the answers into the response cache.

Every step is recorded in ``batch.json`` in the folder (atomically replaced) as soon as it is
done: the parts, then each part's input file id, batch id and whether its output is imported.
A process killed at any point and started again with the same folder carries on from there:
it polls the batches already created and never submits a part twice (a kill between an upload
and its batch creation costs at most one unused uploaded file). Use one folder per set of
requests; the folder's identity (model, endpoint, served weights) must match the run's.

The answers are cached under the same keys as the online path's, so afterwards the streaming
runner yields every answered request from the cache (``send=False`` to stop there, or let it
send the few that failed or expired online).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.llm.batchfile import (
    OPENAI_MAX_BYTES,
    OPENAI_MAX_REQUESTS,
    export_batch,
    import_batch,
)
from deliberate.llm.cache import ResponseCache
from deliberate.llm.dispatch import cache_identity
from deliberate.llm.options import BackendOptions
from deliberate.llm.progress import RunProgress
from deliberate.llm.types import ModelRequest
from deliberate.llm.usage import ModelUsage

STATE = "batch.json"
ENDED = {"completed", "failed", "expired", "cancelled"}


class BatchPending(DeliberateError):
    """The batches are still running at the deadline; run again with the folder to resume."""


@dataclass
class BatchRun:
    """A finished batch run: per-request failures and missing requests, and usage."""

    parts: int = 0
    submitted: int = 0
    imported: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    usage: ModelUsage = field(default_factory=ModelUsage)


async def run_batch(backend: Any, requests: Iterable[ModelRequest], folder: str | Path,
                    options: BackendOptions | None = None, *, cache: ResponseCache,
                    poll_interval: float = 30.0, deadline: float | None = None,
                    description: str = "batch", max_requests: int = OPENAI_MAX_REQUESTS,
                    max_bytes: int = OPENAI_MAX_BYTES) -> BatchRun:
    """Answer ``requests`` through the Batch API of ``backend``'s (first) endpoint.

    Raises :class:`BatchPending` at ``deadline`` seconds (the batches keep running; call
    again with the same ``folder`` to pick them up).
    """
    options = options or BackendOptions()
    try:
        state = await _prepare(backend, requests, Path(folder), options, cache,
                               max_requests, max_bytes)
        client = backend.openai_client()
        for part in state.parts:
            await _submit(client, state, part)
        await _poll(client, state, poll_interval, deadline, description, options.progress)
        for part in state.parts:
            await _collect(client, state, part, cache)
        return _report(state, cache)
    finally:
        await backend.aclose()


@dataclass
class _State:
    path: Path
    data: dict[str, Any]

    @property
    def parts(self) -> list[dict[str, Any]]:
        return self.data["parts"]

    def save(self) -> None:
        write_json_atomic(self.path, self.data)


async def _prepare(backend: Any, requests: Iterable[ModelRequest], folder: Path,
                   options: BackendOptions, cache: ResponseCache, max_requests: int,
                   max_bytes: int) -> _State:
    """The folder's state: read back, or made by exporting the requests the cache lacks."""
    identity = await cache_identity(backend, options)
    state = _State(folder / STATE, {})
    if state.path.exists():
        state.data = json.loads(state.path.read_text(encoding="utf-8"))
        if state.data.get("identity") != identity:
            raise DeliberateError(f"{folder}: its batches are for {state.data.get('identity')}, "
                                  f"not {identity}; use another folder")
        return state
    export = export_batch(requests, folder / "input.jsonl", model=backend.model,
                          identity=identity, extra_body=backend.extra_body, cache=cache,
                          max_requests=max_requests, max_bytes=max_bytes)
    state.data = {"identity": identity, "model": backend.ref, "cached": export.cached,
                  "parts": [{"file": p.name, "requests": n}
                            for p, n in zip(export.parts, export.counts)]}
    state.save()
    return state


async def _submit(client: Any, state: _State, part: dict[str, Any]) -> None:
    """Upload the part and create its batch, each only if not done before."""
    if part.get("input_file_id") is None:
        with open(state.path.parent / part["file"], "rb") as handle:  # noqa: ASYNC230
            uploaded = await _api(lambda: client.files.create(
                file=(part["file"], handle), purpose="batch"), "upload", tries=1)
        part["input_file_id"] = uploaded.id
        state.save()
    if part.get("batch_id") is None:
        batch = await _api(lambda: client.batches.create(
            input_file_id=part["input_file_id"], endpoint="/v1/chat/completions",
            completion_window="24h"), "create a batch")
        part["batch_id"] = batch.id
        state.save()


async def _poll(client: Any, state: _State, interval: float, deadline: float | None,
                description: str, progress_on: bool) -> None:
    """Poll every unfinished batch until all have ended, with a progress bar."""
    end = None if deadline is None else time.monotonic() + deadline
    total = sum(p["requests"] for p in state.parts)
    shown = 0
    with RunProgress(description, total=total, enabled=progress_on) as progress:
        while True:
            done = 0
            for part in state.parts:
                if part.get("status") not in ENDED:
                    await _refresh(client, part)
                done += part.get("finished", 0)
            if done > shown:
                progress.advance(done - shown)
                shown = done
            if all(p.get("status") in ENDED for p in state.parts):
                state.save()
                return
            if end is not None and time.monotonic() >= end:
                state.save()
                raise BatchPending(f"batches in {state.path.parent} still running after "
                                   f"{deadline:g} s; run again to resume")
            await asyncio.sleep(interval)


async def _refresh(client: Any, part: dict[str, Any]) -> None:
    """Poll one batch; a passing failure is tried again at the next poll."""
    try:
        batch = await _api(lambda: client.batches.retrieve(part["batch_id"]), "poll", tries=1)
    except _Unavailable:
        return
    counts = batch.request_counts
    part["status"] = batch.status
    part["finished"] = (counts.completed + counts.failed) if counts else 0
    part["output_file_id"] = batch.output_file_id
    part["error_file_id"] = batch.error_file_id
    errors = getattr(batch, "errors", None)
    if batch.status == "failed" and errors is not None and errors.data:
        part["error"] = "; ".join(f"{e.code}: {e.message}" for e in errors.data)


async def _collect(client: Any, state: _State, part: dict[str, Any],
                   cache: ResponseCache) -> None:
    """Download an ended part's output and error files; import them into the cache."""
    if part.get("imported"):
        return
    folder = state.path.parent
    outputs = []
    for kind in ("output_file_id", "error_file_id"):
        if part.get(kind):
            target = folder / f"{Path(part['file']).stem}.{kind.split('_')[0]}.jsonl"
            await _download(client, part[kind], target)
            outputs.append(target)
    found = import_batch(outputs, cache, model_ref=state.data["model"],
                         exported=[folder / part["file"]])
    reason = part.get("error") or f"batch {part['status']}"
    part["result"] = {"imported": found.imported, "failed": found.failed,
                      "missing": [[key, reason] for key in found.missing],
                      "input_tokens": found.usage.input_tokens,
                      "output_tokens": found.usage.output_tokens}
    part["imported"] = True
    state.save()


async def _download(client: Any, file_id: str, target: Path) -> None:
    """Stream a file's content to ``target`` (blocking writes: a few per batch, not a request)."""
    partial = target.with_suffix(".part")
    async with client.files.with_streaming_response.content(file_id) as response:
        with open(partial, "wb") as handle:  # noqa: ASYNC230
            async for chunk in response.iter_bytes():
                handle.write(chunk)
    os.replace(partial, target)


def _report(state: _State, cache: ResponseCache) -> BatchRun:
    run = BatchRun(parts=len(state.parts), submitted=sum(p["requests"] for p in state.parts))
    for part in state.parts:
        result = part["result"]
        run.imported += result["imported"]
        run.failed += [(key, why) for key, why in result["failed"]]
        run.missing += [key for key, _ in result["missing"]]
        run.usage.input_tokens += result["input_tokens"]
        run.usage.output_tokens += result["output_tokens"]
    run.usage.requests = run.submitted + state.data.get("cached", 0)
    run.usage.from_cache = state.data.get("cached", 0)
    run.usage.sent = run.usage.attempts = run.submitted
    run.usage.failed = len(run.failed) + len(run.missing)
    return run


class _Unavailable(DeliberateError):
    """A Batch API call failed for a passing reason (connection, 429, 5xx): a dead server, not a
    usage error, so exit 3 as the live path's dead server."""

    exit_code = 3


async def _api(call: Callable[[], Awaitable[Any]], what: str, *, tries: int = 3) -> Any:
    """One Batch API call, tried again on a passing failure; a one-line error at the end."""
    import openai

    for attempt in range(1, tries + 1):
        try:
            return await call()
        except (openai.APIConnectionError, openai.RateLimitError,
                openai.InternalServerError) as exc:
            if attempt == tries:
                raise _Unavailable(f"batch API: could not {what}: {exc}") from None
            await asyncio.sleep(min(30.0, 2.0 ** attempt))
        except openai.APIError as exc:
            raise DeliberateError(f"batch API: could not {what}: {exc}") from None
    raise AssertionError("unreachable")


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON: a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def generate_batch(requests: Iterable[ModelRequest], model: str | Any, folder: str | Path,
                   options: BackendOptions | None = None, **kwargs: Any) -> BatchRun:
    """:func:`run_batch` for synchronous callers, with the cache ``options`` name."""
    from deliberate.llm.stream import open_backend

    options = options or BackendOptions()
    backend, cache = open_backend(model, options)
    if cache is None:
        raise DeliberateError("the batch path needs the response cache (it keeps the answers)")
    try:
        return asyncio.run(run_batch(backend, requests, folder, options, cache=cache, **kwargs))
    finally:
        cache.close()
