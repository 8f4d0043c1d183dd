"""``stages.<label|generate|judge>.batch: true``: the pipeline's stage through the Batch API.

The same rounds as the commands' ``--batch`` (:mod:`deliberate.llm.batchrounds`), with the
batches' state in the run folder next to the stage's output (``generations.jsonl.batch/``), so
``deliberate run`` killed while a batch runs resumes that batch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field


class BatchSetting(BaseModel):
    """The fields a model-calling pipeline stage adds to its own config."""

    batch: bool = Field(default=False, description="Send this stage's requests through the "
                        "Batch API (half the price, within 24 h); killed, the run resumes the "
                        "same batch.")
    batch_poll: float = Field(default=30.0, gt=0, description="Seconds between polls of a "
                              "running batch.")
    batch_tries: int = Field(default=3, ge=1, description="Batch rounds a request may fail in "
                             "before it is recorded as a failure.")


def run_model_stage(section: Any, name: str, model: str, options: Any, out: Path,
                    stage: Callable[[Any, Path], Any]) -> Any:
    """``stage(model, out)`` (a stage that writes ``out`` as it goes); through the Batch API
    when ``section.batch``."""
    if not getattr(section, "batch", False):
        return stage(model, out)
    from deliberate.llm.batchoptions import BatchOptions
    from deliberate.llm.batchrounds import run_writing_in_batches
    from deliberate.records.chunked import with_usage

    plan = BatchOptions(batch=True, batch_poll=section.batch_poll, batch_tries=section.batch_tries)
    outcome = run_writing_in_batches(stage, out, model, options, plan,
                                     folder=out.with_name(f"{out.name}.batch"), description=name)
    totals = outcome.result
    return with_usage(out, totals, outcome.stage_usage(totals.usage, model))
