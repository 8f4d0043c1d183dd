"""The run manifest: per-stage status, hashes, counts, usage, timings and versions.

A stage is skipped on re-run only when it finished and the hash of its inputs and settings is
unchanged; a stage that was running when the process died is run again, and its model calls come
back from the run's response cache (training resumes from its last checkpoint).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from deliberate.records.stage_output import write_json_atomic

Status = Literal["pending", "running", "done", "failed", "skipped"]


class StageRecord(BaseModel):
    status: Status = "pending"
    input_hash: str | None = Field(default=None, description="Hash of inputs + settings when run.")
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    counts: dict[str, Any] = Field(default_factory=dict)
    usage: dict[str, Any] = Field(default_factory=dict)
    outputs: list[str] = Field(default_factory=list)
    error: str | None = None


class RunManifest(BaseModel):
    config_hash: str | None = None
    spec_hash: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    git_revision: str | None = None
    stages: dict[str, StageRecord] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> RunManifest:
        return cls.model_validate_json(path.read_text()) if path.exists() else cls()

    def save(self, path: Path) -> None:
        write_json_atomic(path, self.model_dump(mode="json"))


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def hash_inputs(settings: Any, files: list[Path]) -> str:
    """Hash of a stage's settings (JSON) and the bytes of its input files."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in files:
        digest.update(str(path.name).encode())
        if path.is_file():
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file() and "checkpoint-" not in str(p)):
                digest.update(child.name.encode() + str(child.stat().st_size).encode())
    return digest.hexdigest()[:16]
