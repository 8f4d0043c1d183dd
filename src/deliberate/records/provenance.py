"""One provenance record for every run folder: pipeline, evaluation and training runs alike.

``manifest.json`` in a run folder is a :class:`Provenance`: what ran (kind, resolved config),
against which spec (name, version, content hash), with which models (refs and weight
fingerprints), with which code (package versions, git revision), when and how it ended. One
shape means one reader: ``deliberate report`` and ``deliberate run`` read any run folder, and a
result can always be traced to the model, data and code that made it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from deliberate.errors import InputFileError

MANIFEST = "manifest.json"
RunKind = Literal["pipeline", "eval", "sft", "rl"]
Status = Literal["pending", "running", "done", "failed", "interrupted", "skipped"]


class SpecInfo(BaseModel):
    """The spec a run used."""

    name: str = Field(description="The spec's `name` field.")
    version: str = Field(description="The spec's `version` field.")
    content_hash: str = Field(description="Hash of the whole rendered spec.")
    source: str | None = Field(default=None, description="File it was loaded from, or 'default'.")

    @classmethod
    def of(cls, spec: Any, source: str | None = None) -> SpecInfo:
        """The record of a loaded :class:`~deliberate.spec.Spec`."""
        return cls(name=spec.name, version=spec.version, content_hash=spec.content_hash,
                   source=source)


class ModelInfo(BaseModel):
    """A model a run used, pinned to its weights where they can be seen."""

    ref: str = Field(description="Model ref, e.g. hf/runs/x/sft or openai/NAME.")
    fingerprint: str | None = Field(
        default=None, description="Hash of the local weight files (None for a served model).")

    @classmethod
    def of(cls, model: Any) -> ModelInfo:
        """A model ref (or backend) pinned to the fingerprint of its local weights, if any."""
        from deliberate.llm.refs import parse_model_ref
        from deliberate.llm.weights import weights_fingerprint

        if not isinstance(model, str):  # a backend object: its cache identity says it all
            fingerprint = str(model.cache_ref).partition("@")[2]
            return cls(ref=model.ref, fingerprint=fingerprint or None)
        parsed = parse_model_ref(model)
        local = parsed.provider in ("hf", "vllm")
        return cls(ref=model, fingerprint=weights_fingerprint(parsed.name) if local else None)


class StageRecord(BaseModel):
    """One pipeline stage: its status, what went in, what came out."""

    status: Status = "pending"
    input_hash: str | None = Field(default=None, description="Hash of inputs + settings when run.")
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    counts: dict[str, Any] = Field(default_factory=dict, description="Records kept, failed, ...")
    usage: dict[str, Any] = Field(default_factory=dict, description="Requests and tokens per model.")
    outputs: list[str] = Field(default_factory=list, description="Files and folders written.")
    error: str | None = None


class Provenance(BaseModel):
    """The manifest of a run folder."""

    kind: RunKind = Field(description="pipeline | eval | sft | rl.")
    status: Status = Field(default="running", description="running until the run ends.")
    created: str = Field(default_factory=lambda: now(), description="UTC start time.")
    finished: str | None = Field(default=None, description="UTC end time.")
    seconds: float | None = Field(default=None, description="Wall time of the run.")
    label: str | None = Field(default=None, description="Display name in reports.")
    config: dict[str, Any] = Field(default_factory=dict, description="The resolved config.")
    spec: SpecInfo | None = None
    models: dict[str, ModelInfo] = Field(
        default_factory=dict, description="Role (evaluated, teacher, judge, student, ...) -> model.")
    versions: dict[str, str] = Field(default_factory=dict, description="Installed package versions.")
    git_revision: str | None = Field(default=None, description="Commit of deliberate's source.")
    stages: dict[str, StageRecord] = Field(default_factory=dict, description="Pipeline stages.")
    details: dict[str, Any] = Field(default_factory=dict, description="Kind-specific facts.")
    error: str | None = Field(default=None, description="Why the run failed or stopped.")

    @classmethod
    def start(cls, kind: RunKind, config: dict[str, Any], **fields: Any) -> Provenance:
        """A running record stamped with this process's package versions and git revision."""
        from deliberate.records.versions import git_revision, package_versions

        return cls(kind=kind, config=config, versions=package_versions(),
                   git_revision=git_revision(), **fields)

    def finish(self, status: Status = "done", error: str | None = None) -> Provenance:
        """Mark the run ended (status, end time, wall time)."""
        self.status, self.error, self.finished = status, error, now()
        started = dt.datetime.fromisoformat(self.created)
        self.seconds = round((dt.datetime.fromisoformat(self.finished) - started).total_seconds(), 1)
        return self

    def save(self, folder: str | Path) -> Path:
        from deliberate.records.stage_output import write_text_atomic

        path = Path(folder) / MANIFEST
        write_text_atomic(path, self.model_dump_json(indent=2) + "\n")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> Provenance:
        """Read ``folder/manifest.json``; a bad file is an input error naming it."""
        path = Path(folder) / MANIFEST
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputFileError(path, "no manifest (not a deliberate run folder)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(path, f"cannot read manifest ({exc})") from None
        except ValidationError as exc:
            from deliberate.records.jsonl import describe_validation_error

            raise InputFileError(path, f"invalid manifest ({describe_validation_error(exc)})") from None


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
