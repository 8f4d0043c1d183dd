"""Each stage's outputs, and moving stale ones aside before a stage runs again.

A stage's outputs are a function of its inputs and settings: when those change, whatever the
stage wrote before (a dataset, a checkpoint folder, an adapter) is moved to
``run_dir/.previous/<stage>-<time>/`` before it runs, so nothing old is resumed, loaded or
evaluated by mistake, and nothing is deleted either.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path


def _streamed(stem: str) -> tuple[str, ...]:
    """A streamed stage's outputs and the partial files it keeps while running (a stale
    checkpoint must be moved aside with them, or a changed stage would resume old records)."""
    return (f"{stem}.jsonl", f"{stem}.failures.jsonl", f"{stem}.usage.json",
            f"{stem}.jsonl.partial", f"{stem}.failures.jsonl.partial", f"{stem}.chunks.jsonl",
            f"{stem}.progress.json")


STAGE_OUTPUTS: dict[str, tuple[str, ...]] = {
    "label": _streamed("labelled"),
    "generate": _streamed("generations"),
    "judge": _streamed("judged"),
    "filter": ("sft.jsonl", "filter_summary.json"),
    "sft": ("sft",),
    "rl": ("rl",),
    "eval": ("eval",),
    "report": ("report.html", "report.md", "report_files"),
}
PREVIOUS = ".previous"


def move_aside(run_dir: Path, stage: str, names: Sequence[str] | None = None) -> Path | None:
    """Move the stage's existing outputs (or the files ``names``) out of the way; returns where
    they went (None: none)."""
    names = STAGE_OUTPUTS[stage] if names is None else names
    present = [run_dir / name for name in names if (run_dir / name).exists()]
    if not present:
        return None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    target = run_dir / PREVIOUS / f"{stage}-{stamp}"
    target.mkdir(parents=True)
    for path in present:
        shutil.move(str(path), str(target / path.name))
    return target
