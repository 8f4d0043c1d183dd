"""Run a list-based stage over an input of any size: read lazily, in chunks, resumable.

Every data stage has a ``run_<stage>(config, items, ...)`` that takes a list and returns a
:class:`~deliberate.records.stage_output.StageResult`; that is what the pipeline, the tests and
Python callers use. :func:`run_chunked` drives such a function over a lazy input: it takes
``chunk_size`` inputs at a time, runs the stage on them (the caller keeps one backend open
across chunks, so a local model loads once), and appends the chunk's records and failures to
partial files through :class:`~deliberate.records.resume.ResumableOutput`, one commit (write,
fsync, checkpoint) per chunk. Memory holds one chunk of inputs and results, whatever N is.
The chunks' model calls share one progress bar (:func:`~deliberate.llm.progress.one_bar`), its
title counting the inputs done.

Killed at any instant and run again, the stage resumes after the last committed chunk (the
inputs it skips are checked against the checkpoint's digest of their ids and contents and of a
fingerprint of the stage's settings: other inputs or settings are an error, not a silently
mixed file). The chunk the
kill cut short is run again and its model calls come back from the response cache, so the
finished files are byte for byte those of an uninterrupted run: records in input order.

When every chunk is done the partial files become ``out`` and its ``.failures.jsonl`` sidecar
(removed when nothing failed), and ``.usage.json`` gets the summed usage. The per-chunk counts
(inputs, records, failures, usage, stage tallies) live in a chunk log beside the output, which
is committed with the records, so totals survive a resume.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sized
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from deliberate.llm.progress import one_bar
from deliberate.llm.usage import UsageReport
from deliberate.records.jsonl import iter_jsonl_lines
from deliberate.records.resume import ResumableOutput
from deliberate.records.stage_output import StageResult, sidecar, write_text_atomic

T = TypeVar("T")
DEFAULT_CHUNK = 2000
"""Inputs per chunk: large enough that the tail of a chunk (waiting for its slowest request)
is a small share of its time, small enough that a chunk's records take tens of MB."""


class StreamTotals(NamedTuple):
    """What a chunked stage did, summed over its chunks (this run and those it resumed)."""

    inputs: int
    records: int
    failures: int
    usage: UsageReport
    tallies: dict[str, int]


def partial_paths(out: str | Path) -> dict[str, Path]:
    """The files a chunked stage keeps beside ``out`` while it runs (removed when it ends)."""
    out = Path(out)
    return {"records": out.with_name(f"{out.name}.partial"),
            "failures": out.with_name(f"{sidecar(out, 'failures').name}.partial"),
            "chunks": out.with_name(f"{out.stem}.chunks.jsonl"),
            "checkpoint": out.with_name(f"{out.stem}.progress.json")}


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` items (the last may be shorter), read lazily."""
    source = iter(items)
    while chunk := list(islice(source, size)):
        yield chunk


def run_chunked(inputs: Iterable[T], run_chunk: Callable[[list[T]], StageResult],
                out: str | Path, *, key: Callable[[T], str], fingerprint: str = "",
                chunk_size: int = DEFAULT_CHUNK,
                tally: Callable[[list[Any]], dict[str, int]] | None = None) -> StreamTotals:
    """Run ``run_chunk`` over ``inputs`` chunk by chunk, writing ``out``; see the module doc.

    ``key``: an input's id (for the resume check); ``fingerprint``: what else the output
    depends on (settings, models, spec); ``tally``: counts over a chunk's records to sum.
    """
    paths = partial_paths(out)
    files = {name: paths[name] for name in ("records", "failures", "chunks")}
    output = ResumableOutput(files, paths["checkpoint"], every=sys.maxsize, seconds=math.inf)

    def resume_key(item: T) -> str:  # the id, the item's content and the settings
        return f"{fingerprint}:{key(item)}:{content_digest(item)}"

    total = len(inputs) if isinstance(inputs, Sized) else None
    try:
        with one_bar() as bar:  # one progress bar for the whole run, not one per chunk
            for chunk in batched(output.resume(inputs, key=resume_key), chunk_size):
                result = run_chunk(chunk)
                _write_chunk(output, chunk, result, tally)
                for item in chunk:
                    output.input_done(resume_key(item))
                output.commit()
                bar.inputs_done(output.done, total)
    except BaseException:
        output.abandon()
        raise
    output.close()
    totals = read_totals(paths["chunks"])
    _publish(Path(out), paths, totals)
    return totals


def content_digest(item: Any) -> str:
    """A short hash of an input's content: an input edited under the same id is not resumed."""
    import hashlib

    text = item.model_dump_json() if isinstance(item, BaseModel) else repr(item)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _write_chunk(output: ResumableOutput, chunk: list[Any], result: StageResult,
                 tally: Callable[[list[Any]], dict[str, int]] | None) -> None:
    for record in result.records:
        output.write("records", record)
    for failure in result.failures:
        output.write("failures", failure)
    counts = {"inputs": len(chunk), "records": len(result.records),
              "failures": len(result.failures), "usage": result.usage.model_dump(mode="json"),
              "tally": tally(result.records) if tally else {}}
    output.write("chunks", json.dumps(counts, sort_keys=True))


def read_totals(chunk_log: Path) -> StreamTotals:
    """The chunk log's counts, summed."""
    inputs = records = failures = 0
    usage, tallies = UsageReport(), Counter[str]()
    for _, row in iter_jsonl_lines(chunk_log):
        inputs, records, failures = (inputs + row["inputs"], records + row["records"],
                                     failures + row["failures"])
        usage = usage.merge(UsageReport.model_validate(row["usage"]))
        tallies.update(row["tally"])
    return StreamTotals(inputs, records, failures, usage, dict(tallies))


def _publish(out: Path, paths: dict[str, Path], totals: StreamTotals) -> None:
    """Partial files -> the stage's outputs. The checkpoint goes first: a kill from here on
    leaves no checkpoint, so a rerun starts afresh and, from the cache, writes the same files."""
    paths["checkpoint"].unlink(missing_ok=True)
    os.replace(paths["records"], out)
    failures = sidecar(out, "failures")
    if totals.failures:
        os.replace(paths["failures"], failures)
    else:
        paths["failures"].unlink(missing_ok=True)
        failures.unlink(missing_ok=True)
    write_text_atomic(sidecar(out, "usage"), totals.usage.model_dump_json(indent=2) + "\n")
    paths["chunks"].unlink(missing_ok=True)


def stage_fingerprint(*parts: Any) -> str:
    """A short hash of what a stage's output depends on besides its inputs (its config, the
    model ref, the spec's hash), for the resume check."""
    import hashlib

    text = json.dumps([p.model_dump(mode="json") if hasattr(p, "model_dump") else p
                       for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def shared_backend(ref: Any, options: Any) -> Callable[[], Any]:
    """A function returning one backend for ``ref`` (made on first call, then the same one), so
    every chunk uses one backend: a local model is loaded once, not once per chunk."""
    made: list[Any] = []

    def get() -> Any:
        if not made:
            from deliberate.llm import get_backend

            made.append(get_backend(ref, options) if isinstance(ref, str) else ref)
        return made[0]

    return get


def with_usage(out: str | Path, totals: StreamTotals, usage: UsageReport) -> StreamTotals:
    """``totals`` with ``usage`` in place of its own, rewritten beside ``out`` (the batch path:
    the calls went out in batches, the final run read them from the cache)."""
    write_text_atomic(sidecar(out, "usage"), usage.model_dump_json(indent=2) + "\n")
    return totals._replace(usage=usage)
