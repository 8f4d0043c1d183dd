"""Writing a stage's outputs: records, failures and usage side by side.

``out.jsonl`` holds the good records (written atomically at the end: the response cache is what
makes an interrupted stage resumable), ``out.failures.jsonl`` lists requests that failed for
good with their reason, ``out.usage.json`` the token and request counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from deliberate.llm.usage import UsageReport
from deliberate.records.jsonl import write_jsonl, write_lines_atomic
from deliberate.records.response import FailureRecord


class StageResult(NamedTuple):
    """What a data stage returns: its good records, the requests that failed for good, usage."""

    records: list[Any]
    failures: list[FailureRecord]
    usage: UsageReport


DEFAULT_MAX_FAILURE_RATE = 0.1
"""A stage whose share of failed items exceeds this exits 3 (its outputs are still written)."""


def check_failure_rate(stage: str, total: int, failed: int, max_rate: float, where: str | Path) -> None:
    """Raise :class:`StageFailed` when more than ``max_rate`` of a stage's ``total`` items failed.

    The outputs are written first, so nothing is lost; the exit code tells a script not to go on.
    A stage with nothing to do has not failed.
    """
    from deliberate.errors import StageFailed

    if total and failed / total > max_rate:
        raise StageFailed(f"{stage}: {failed} of {total} items failed (more than {max_rate:.0%}); "
                          f"see {where}")


def sidecar(out: str | Path, kind: str) -> Path:
    """``runs/gen.jsonl`` + ``failures`` -> ``runs/gen.failures.jsonl``."""
    out = Path(out)
    suffix = ".json" if kind == "usage" else ".jsonl"
    return out.with_name(f"{out.stem}.{kind}{suffix}")


def write_stage_output(
    out: str | Path,
    records: Sequence[BaseModel],
    failures: Sequence[FailureRecord],
    usage: UsageReport,
) -> None:
    """Write records, failures (removed when there are none) and usage."""
    write_jsonl(out, records)
    failures_path = sidecar(out, "failures")
    if failures:
        write_jsonl(failures_path, failures)
    else:
        failures_path.unlink(missing_ok=True)
    write_text_atomic(sidecar(out, "usage"), usage.model_dump_json(indent=2) + "\n")


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a small text file atomically (temp file + fsync + rename)."""
    write_lines_atomic(path, [text])


def write_json_atomic(path: str | Path, data: object) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
