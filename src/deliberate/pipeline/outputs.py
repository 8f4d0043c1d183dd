"""Each stage's outputs, and moving stale ones aside before a stage runs again.

A stage's outputs are a function of its inputs and settings: when those change, whatever the
stage wrote before (a dataset, a checkpoint folder, an adapter) is moved to
``run_dir/.previous/<stage>-<time>/`` before it runs, so nothing old is resumed, loaded or
evaluated by mistake, and nothing is deleted either.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

STAGE_OUTPUTS: dict[str, tuple[str, ...]] = {
    "label": ("labelled.jsonl", "labelled.failures.jsonl", "labelled.usage.json"),
    "generate": ("generations.jsonl", "generations.failures.jsonl", "generations.usage.json"),
    "judge": ("judged.jsonl", "judged.failures.jsonl", "judged.usage.json"),
    "filter": ("sft.jsonl", "filter_summary.json"),
    "sft": ("sft",),
    "rl": ("rl",),
    "eval": ("eval",),
    "report": ("report.html", "report.md", "report_files"),
}
PREVIOUS = ".previous"


def move_aside(run_dir: Path, stage: str) -> Path | None:
    """Move the stage's existing outputs out of the way; returns where they went (None: none)."""
    present = [run_dir / name for name in STAGE_OUTPUTS[stage] if (run_dir / name).exists()]
    if not present:
        return None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    target = run_dir / PREVIOUS / f"{stage}-{stamp}"
    target.mkdir(parents=True)
    for path in present:
        shutil.move(str(path), str(target / path.name))
    return target
