"""Requests as OpenAI Batch JSONL, and batch output back into the response cache.

One line per request, the format of OpenAI's Batch API and of ``vllm run-batch``::

    {"custom_id": "<cache key>", "method": "POST", "url": "/v1/chat/completions", "body": {...}}

The ``custom_id`` is the request's cache key under the run's cache identity, so output is
imported without any mapping: each answer is stored under its ``custom_id``, and a stage run
afterwards with the same identity finds every answered request in the cache. Output lines are
``{"custom_id", "response": {"status_code", "body"}, "error"}``: a 200 with a chat completion
is imported; anything else is reported as failed with its reason, and an exported request with
no output line (and no cached answer) as missing.

Both directions stream: requests are written as they come (skipping those the cache holds and
repeats within a part), output is read line by line and written to the cache 256 rows at a
time. Files are split at ``max_requests`` lines or ``max_bytes`` bytes (OpenAI: 50,000 and
200 MB per batch file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from deliberate.errors import InputFileError
from deliberate.llm.backends.openai import chat_body, to_response
from deliberate.llm.cache import CacheWriter, ResponseCache
from deliberate.llm.errors import TransientError
from deliberate.llm.types import ModelRequest
from deliberate.llm.usage import ModelUsage

OPENAI_MAX_REQUESTS = 50_000
OPENAI_MAX_BYTES = 200 * 1000 * 1000
CHAT_URL = "/v1/chat/completions"
CHUNK = 256


@dataclass
class BatchExport:
    """What :func:`export_batch` wrote: the files, the requests in each, and what it left out."""

    parts: list[Path] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    cached: int = 0
    repeats: int = 0

    @property
    def requests(self) -> int:
        return sum(self.counts)


@dataclass
class BatchImport:
    """What :func:`import_batch` found: answers imported, requests failed (custom_id, why),
    exported requests with neither an answer nor a cached one, and the tokens of the answers."""

    imported: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    usage: ModelUsage = field(default_factory=ModelUsage)


def part_path(path: Path, index: int) -> Path:
    """``out.jsonl``, ``out-0001.jsonl``, ``out-0002.jsonl``..."""
    return path if index == 0 else path.with_name(f"{path.stem}-{index:04d}{path.suffix}")


def export_batch(requests: Iterable[ModelRequest], path: str | Path, *, model: str,
                 identity: str, extra_body: dict[str, Any] | None = None,
                 cache: ResponseCache | None = None, max_requests: int | None = None,
                 max_bytes: int | None = None) -> BatchExport:
    """Write ``requests`` (not cached, repeats once per part) as batch JSONL for ``model``
    (the name servers know it by), keyed by ``identity``; see the module docstring."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    export = BatchExport()
    handle: IO[bytes] | None = None
    size, seen = 0, set[str]()
    try:
        for request, key in _uncached(requests, identity, cache, export):
            if key in seen:
                export.repeats += 1
                continue
            line = json.dumps({"custom_id": key, "method": "POST", "url": CHAT_URL,
                               "body": chat_body(model, request, extra_body)},
                              ensure_ascii=False).encode("utf-8") + b"\n"
            if handle is None or _full(export.counts[-1], size + len(line), max_requests, max_bytes):
                if handle is not None:
                    handle.close()
                export.parts.append(part_path(path, len(export.parts)))
                export.counts.append(0)
                handle, size, seen = open(export.parts[-1], "wb"), 0, set()  # noqa: SIM115
            handle.write(line)
            size += len(line)
            seen.add(key)
            export.counts[-1] += 1
    finally:
        if handle is not None:
            handle.close()
    return export


def _full(count: int, size: int, max_requests: int | None, max_bytes: int | None) -> bool:
    return (max_requests is not None and count >= max_requests) or (
        max_bytes is not None and count > 0 and size > max_bytes)


def _uncached(requests: Iterable[ModelRequest], identity: str, cache: ResponseCache | None,
              export: BatchExport) -> Iterator[tuple[ModelRequest, str]]:
    """``(request, key)`` for the requests the cache has no answer for, looked up in chunks."""
    source = iter(requests)
    while chunk := list(islice(source, CHUNK)):
        keyed = [(request, request.cache_key(identity)) for request in chunk]
        held = cache.has_many([key for _, key in keyed]) if cache is not None else set()
        export.cached += sum(key in held for _, key in keyed)
        yield from ((request, key) for request, key in keyed if key not in held)


def import_batch(outputs: Iterable[str | Path], cache: ResponseCache, *, model_ref: str,
                 exported: Iterable[str | Path] = ()) -> BatchImport:
    """Store every answered request of the batch output files in ``cache``; report the rest.

    ``exported``: the batch input files, to find requests that have no output line.
    """
    report = BatchImport()
    writer = CacheWriter(cache, model_ref)
    for output in outputs:
        for number, line in _lines(Path(output)):
            _import_line(Path(output), number, line, model_ref, writer, report)
    writer.flush()
    failed = {custom_id for custom_id, _ in report.failed}
    for exported_file in exported:
        keys = (line["custom_id"] for _, line in _lines(Path(exported_file)))
        while chunk := list(islice(keys, CHUNK)):
            held = cache.has_many(chunk)
            report.missing += [k for k in chunk if k not in held and k not in failed]
    return report


def _import_line(path: Path, number: int, line: dict[str, Any], model_ref: str,
                 writer: CacheWriter, report: BatchImport) -> None:
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str):
        raise InputFileError(path, "no custom_id: not batch output", line=number)
    response = line.get("response") if isinstance(line.get("response"), dict) else {}
    status, body = response.get("status_code"), response.get("body")
    if line.get("error") or status != 200:
        report.failed.append((custom_id, _reason(line.get("error"), status, body)))
        return
    try:
        answer = to_response(body, model_ref, lambda what: TransientError(what))
    except TransientError as exc:
        report.failed.append((custom_id, f"unparsable response: {exc}"))
        return
    writer.add(custom_id, answer)
    report.imported += 1
    report.usage.input_tokens += answer.usage.input_tokens
    report.usage.output_tokens += answer.usage.output_tokens


def _reason(error: Any, status: Any, body: Any) -> str:
    """One line: the error's message, or the status and the body's error message."""
    if isinstance(error, dict):
        return f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip()
    if error:
        return str(error)
    detail = body.get("error") if isinstance(body, dict) else None
    message = detail.get("message") if isinstance(detail, dict) else detail
    return f"HTTP {status}" + (f": {message}" if message else "")


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of a JSONL file, one line at a time."""
    if not path.is_file():
        raise InputFileError(path, "file not found")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                raise InputFileError(path, "bad JSON", line=number) from None
            if isinstance(obj, dict):
                yield number, obj
