"""Merging shard outputs into one file, in a deterministic order, with bounded memory.

Shards of a stage (``--shard K/N``) each write their records in their own input order. Merged,
the records are sorted by their key: a prompt's id, a generation's ``(prompt_id,
sample_index)``, a judged record's generation key, a failure's id; so the merged file depends
only on the set of records, not on how they were split or in which order the shards are named.
Merging the output of an unsharded run gives the same bytes as merging its shards.

The sort is external: runs of ``run_lines`` lines are sorted in memory and written to temp
files, then k-way merged (``heapq.merge``); lines are copied as they are, never re-serialised.
Two records with one key are an error (the inputs overlap). Failure sidecars are merged the
same way, and the usage sidecars summed.
"""

from __future__ import annotations

import heapq
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from deliberate.errors import InputFileError
from deliberate.llm.usage import UsageReport
from deliberate.records.jsonl import write_lines_atomic
from deliberate.records.stage_output import sidecar, write_text_atomic

RUN_LINES = 100_000
Key = tuple[str, int]


def record_key(obj: dict[str, Any]) -> Key:
    """A record's sort key: ``(prompt id or id, sample index)``."""
    inner = obj.get("generation")
    if isinstance(inner, dict):
        obj = inner
    if "prompt_id" in obj:
        return str(obj["prompt_id"]), int(obj.get("sample_index") or 0)
    if "id" in obj:
        return str(obj["id"]), 0
    raise ValueError("record has no id or prompt_id")


def _keyed(path: Path) -> Iterator[tuple[Key, str]]:
    """``(key, line)`` for each record of ``path``, the line exactly as it is in the file."""
    if not path.is_file():
        raise InputFileError(path, "file not found")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                key = record_key(json.loads(line))
            except (ValueError, AttributeError) as exc:
                raise InputFileError(path, f"not a record ({exc})", number) from None
            yield key, line if line.endswith("\n") else line + "\n"


def sorted_lines(inputs: Sequence[Path], tmp: Path, run_lines: int = RUN_LINES) -> Iterator[str]:
    """Every line of ``inputs``, sorted by :func:`record_key`; duplicate keys are an error."""
    runs: list[Path] = []
    buffer: list[tuple[Key, str]] = []
    for path in inputs:
        for item in _keyed(path):
            buffer.append(item)
            if len(buffer) >= run_lines:
                runs.append(_write_run(buffer, tmp, len(runs)))
                buffer = []
    buffer.sort()
    streams: list[Iterable[tuple[Key, str]]] = [_keyed(run) for run in runs] + [buffer]
    previous: Key | None = None
    for key, line in heapq.merge(*streams):
        if key == previous:
            raise InputFileError(", ".join(map(str, inputs)), f"record '{key[0]}' (sample "
                                 f"{key[1]}) is in more than one input: do the shards overlap?")
        previous = key
        yield line


def _write_run(buffer: list[tuple[Key, str]], tmp: Path, index: int) -> Path:
    buffer.sort()
    path = tmp / f"run-{index}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(line for _, line in buffer)
    return path


def merge_jsonl(out: Path, inputs: Sequence[Path], run_lines: int = RUN_LINES) -> int:
    """Write the sorted union of ``inputs`` to ``out`` (atomically); returns the line count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as tmp:
        return write_lines_atomic(out, sorted_lines(inputs, Path(tmp), run_lines))


def merge_stage_outputs(out: Path, inputs: Sequence[Path],
                        run_lines: int = RUN_LINES) -> tuple[int, int]:
    """Merge records, failure sidecars and usage sidecars; returns (records, failures)."""
    records = merge_jsonl(out, inputs, run_lines)
    failure_files = [f for f in (sidecar(p, "failures") for p in inputs) if f.is_file()]
    failures = merge_jsonl(sidecar(out, "failures"), failure_files, run_lines) if failure_files else 0
    if not failure_files:
        sidecar(out, "failures").unlink(missing_ok=True)
    usage_files = [u for u in (sidecar(p, "usage") for p in inputs) if u.is_file()]
    if usage_files:
        usage = UsageReport()
        for path in usage_files:
            usage = usage.merge(UsageReport.model_validate_json(path.read_text(encoding="utf-8")))
        write_text_atomic(sidecar(out, "usage"), usage.model_dump_json(indent=2) + "\n")
    return records, failures
