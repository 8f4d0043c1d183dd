"""How a data stage uses batches: the ``--batch*`` flags of label, generate and judge.

Kept apart from :mod:`deliberate.llm.batchrounds` (which imports the Batch API client) so that
building the command-line flags costs nothing at start-up.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class BatchOptions(BaseModel):
    """Batch modes of a stage: the Batch API (``batch``), or files (``batch_export`` /
    ``batch_import``, for ``vllm run-batch``)."""

    model_config = ConfigDict(extra="forbid")

    batch: bool = Field(
        default=False,
        description="Send the stage's requests through the server's Batch API (OpenAI: half "
                    "the price, answers within 24 h): upload, create, poll, download; the "
                    "answers go to the response cache. Killed, the same command resumes the "
                    "same batches.")
    batch_dir: Path | None = Field(
        default=None, description="Folder keeping the batches' state (ids, files) so a re-run "
                                  "resumes them.  [default: <out>.batch]")
    batch_export: Path | None = Field(
        default=None,
        description="Write the requests the cache cannot answer as Batch JSONL to this file "
                    "(for `vllm run-batch`), print what to run next, and stop.")
    batch_import: list[Path] = Field(
        default_factory=list,
        description="Batch output JSONL (from `vllm run-batch` or the Batch API) to load into "
                    "the response cache before the stage runs (repeatable); requests it does "
                    "not answer are recorded as failures, never sent.",
        json_schema_extra={"multiple": True})
    batch_poll: float = Field(default=30.0, gt=0, description="Seconds between polls of a "
                              "running batch.")
    batch_tries: int = Field(default=3, ge=1, description="Batch rounds a request may fail in "
                             "(its output line an error, or none) before it is recorded as a "
                             "failure; raise it to give those another round.")

    @field_validator("batch_import", mode="before")
    @classmethod
    def _one_or_several(cls, value: object) -> object:
        return [value] if isinstance(value, (str, Path)) else value

    @property
    def active(self) -> bool:
        """Whether the stage runs in batch rounds at all."""
        return self.batch or self.batch_export is not None or bool(self.batch_import)

    def flag(self) -> str:
        """The flag that turned batch mode on (for one-line errors)."""
        if self.batch:
            return "--batch"
        return "--batch-export" if self.batch_export is not None else "--batch-import"
