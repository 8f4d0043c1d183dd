"""OpenAI's Files and Batch APIs for the loopback server (see ``LoopbackServer(batch_delay=)``).

Routes: ``POST /v1/files`` (multipart upload; purpose ``batch``), ``GET /v1/files/{id}`` and
``GET /v1/files/{id}/content``, ``POST /v1/batches`` and ``GET /v1/batches/{id}``. A batch is
``in_progress`` for ``delay`` seconds after it is created (its ``request_counts.completed``
growing with the time passed), then ``completed``: each line of its input file is answered by
the server's responder, except the lines the server's ``fail_permanently`` picks (HTTP 400) or
its ``FaultPlan`` draws a fault for (HTTP 500); those go to the error file, as OpenAI does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Batch:
    id: str
    input_file_id: str
    endpoint: str
    created: float
    total: int
    status: str = "in_progress"
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    metadata: dict[str, Any] | None = field(default=None)


class BatchEndpoints:
    """The files and batches of one server; counts uploads, batches created and polls."""

    def __init__(self, answer: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]],
                 delay: float = 0.0) -> None:
        self.answer = answer  # body -> (status, reply JSON), the server's chat logic
        self.delay = delay
        self.files: dict[str, tuple[str, str, bytes]] = {}  # id -> (name, purpose, content)
        self.batches: dict[str, Batch] = {}
        self.uploads = 0
        self.created = 0
        self.polls = 0
        self._lock = threading.Lock()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/files", self.upload)
        app.router.add_get("/v1/files/{id}", self.file_info)
        app.router.add_get("/v1/files/{id}/content", self.file_content)
        app.router.add_post("/v1/batches", self.create)
        app.router.add_get("/v1/batches/{id}", self.retrieve)

    def _store(self, name: str, purpose: str, content: bytes) -> str:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        with self._lock:
            self.files[file_id] = (name, purpose, content)
        return file_id

    def _file_json(self, file_id: str) -> dict[str, Any]:
        name, purpose, content = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                "filename": name, "purpose": purpose, "status": "processed"}

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload, purpose = form.get("file"), str(form.get("purpose", ""))
        if not isinstance(upload, web.FileField):
            return web.json_response({"error": {"message": "no file", "type": "invalid_request_error"}},
                                     status=400)
        file_id = self._store(upload.filename, purpose, upload.file.read())
        with self._lock:
            self.uploads += 1
        return web.json_response(self._file_json(file_id))

    async def file_info(self, request: web.Request) -> web.Response:
        file_id = request.match_info["id"]
        if file_id not in self.files:
            return _missing(f"no file {file_id}")
        return web.json_response(self._file_json(file_id))

    async def file_content(self, request: web.Request) -> web.Response:
        file_id = request.match_info["id"]
        if file_id not in self.files:
            return _missing(f"no file {file_id}")
        return web.Response(body=self.files[file_id][2], content_type="application/octet-stream")

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        file_id = body.get("input_file_id")
        if file_id not in self.files:
            return _missing(f"no file {file_id}")
        lines = [x for x in self.files[file_id][2].splitlines() if x.strip()]
        batch = Batch(id=f"batch_{uuid.uuid4().hex[:24]}", input_file_id=file_id,
                      endpoint=body.get("endpoint", ""), created=time.time(), total=len(lines),
                      metadata=body.get("metadata"))
        with self._lock:
            self.batches[batch.id] = batch
            self.created += 1
        return web.json_response(self._batch_json(batch))

    async def retrieve(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _missing("no such batch")
        with self._lock:
            self.polls += 1
        if batch.status == "in_progress":
            elapsed = time.time() - batch.created
            if elapsed >= self.delay:
                self._run(batch)
            else:
                batch.completed = int(batch.total * elapsed / self.delay)
        return web.json_response(self._batch_json(batch))

    def _run(self, batch: Batch) -> None:
        """Answer every line of the batch's input: an output file and an error file."""
        out, errors = [], []
        for raw in self.files[batch.input_file_id][2].splitlines():
            if not raw.strip():
                continue
            line = json.loads(raw)
            status, reply = self.answer(line["body"])
            entry = {"id": f"batch_req_{uuid.uuid4().hex[:16]}", "custom_id": line["custom_id"],
                     "response": {"status_code": status, "request_id": uuid.uuid4().hex,
                                  "body": reply}, "error": None}
            (out if status == 200 else errors).append(json.dumps(entry) + "\n")
        batch.completed, batch.failed = len(out), len(errors)
        if out:
            batch.output_file_id = self._store("output.jsonl", "batch_output", "".join(out).encode())
        if errors:
            batch.error_file_id = self._store("errors.jsonl", "batch_output", "".join(errors).encode())
        batch.status = "completed"

    def _batch_json(self, batch: Batch) -> dict[str, Any]:
        return {"id": batch.id, "object": "batch", "endpoint": batch.endpoint, "errors": None,
                "input_file_id": batch.input_file_id, "completion_window": "24h",
                "status": batch.status, "output_file_id": batch.output_file_id,
                "error_file_id": batch.error_file_id, "created_at": int(batch.created),
                "request_counts": {"total": batch.total, "completed": batch.completed,
                                   "failed": batch.failed},
                "metadata": batch.metadata}


def _missing(message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error"}},
                             status=404)
