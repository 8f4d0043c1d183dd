"""Loading prompts from JSONL, CSV, Parquet or a HuggingFace dataset, with column mapping.

Every source becomes a list of :class:`PromptRecord` (or, through :func:`iter_prompts`, a lazy
stream of them). Ids come from an id column where one is
given, else from a content hash of the prompt, so reloading the same source gives the same ids.
Categories are checked against the spec's category ids (when given) with the file and line of
the first unknown one.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from deliberate.errors import DeliberateError, InputFileError
from deliberate.records.jsonl import describe_validation_error, iter_jsonl_lines
from deliberate.records.modes import NONE_CATEGORY
from deliberate.records.prompt import PromptRecord
from deliberate.records.seen import SeenIds

HF_PREFIX = "hf:"


class ColumnMap(BaseModel):
    """Which source columns hold the fields of a prompt record."""

    prompt: str = Field(default="prompt", description="Column with the prompt text.")
    id: str | None = Field(default="id", description="Column with a stable id (hash if absent).")
    category: str | None = Field(default="category", description="Column with category ids.")
    expected_mode: str | None = Field(default="expected_mode", description="Expected mode column.")


def load_prompts(
    source: str | Path,
    *,
    columns: ColumnMap | None = None,
    categories: Collection[str] | None = None,
    split: str = "train",
    limit: int | None = None,
) -> list[PromptRecord]:
    """Load prompts from a file (``.jsonl``/``.json``, ``.csv``, ``.parquet``) or ``hf:NAME``.

    Raises:
        InputFileError: unreadable file, bad line, missing prompt field, unknown category,
            empty source, duplicate id.
    """
    records = list(itertools.islice(
        iter_prompts(source, columns=columns, categories=categories, split=split), limit))
    if not records:
        raise InputFileError(str(source), "no prompts found (empty source)")
    return records


def iter_prompts(
    source: str | Path,
    *,
    columns: ColumnMap | None = None,
    categories: Collection[str] | None = None,
    split: str = "train",
    keep: Callable[[str], bool] | None = None,
    seen: SeenIds | None = None,
) -> Iterator[PromptRecord]:
    """:func:`load_prompts`, lazily: one record at a time, with the same checks (an empty
    source is the caller's to detect). ``keep``: only ids it accepts (a shard's); ``seen``:
    the id digests of earlier sources (one set for several files finds duplicates across them).

    Memory: JSONL, CSV and Parquet (by row group) are read as they go; ``hf:`` datasets as
    ``datasets`` reads them. The duplicate-id check keeps an 8-byte digest per kept id, the
    last 100,000 in memory and the rest in a temporary SQLite file (:class:`SeenIds`).
    """
    columns = columns or ColumnMap()
    name = str(source)
    rows = _hf_rows(name[len(HF_PREFIX):], split) if name.startswith(HF_PREFIX) else iter_file_rows(Path(name))
    seen = SeenIds() if seen is None else seen
    for line, row in rows:
        record = _to_record(name, line, row, columns)
        if keep is not None and not keep(record.id):
            continue
        if categories is not None:
            check_categories(record, categories, name, line)
        if not seen.add(_id_digest(record.id)):
            raise InputFileError(name, f"duplicate id '{record.id}'", line)
        yield record


def _id_digest(record_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(record_id.encode("utf-8"), digest_size=8).digest(), "big")


def check_categories(record: PromptRecord, categories: Collection[str], source: str,
                     line: int | None) -> None:
    """Reject a category id outside ``categories`` (the spec's ids; ``none`` is always known)."""
    for cat in record.category or []:
        if cat != NONE_CATEGORY and cat not in categories:
            known = ", ".join([*categories, NONE_CATEGORY])
            raise InputFileError(
                source, f"unknown category '{cat}' in record '{record.id}' (spec has: {known})", line
            )


def stable_id(text: str) -> str:
    """Id derived from the prompt text, for sources without an id column."""
    return "p-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _to_record(source: str, line: int, row: dict[str, Any], columns: ColumnMap) -> PromptRecord:
    if columns.prompt not in row and "messages" not in row:
        raise InputFileError(source, f"missing prompt field '{columns.prompt}'", line)
    data: dict[str, Any] = {}
    known = {columns.prompt, columns.id, columns.category, columns.expected_mode}
    if columns.prompt in row:
        data["prompt"] = _clean(row[columns.prompt])
    for field in ("messages", "source", "metadata"):
        if field in row and field not in known:
            data[field] = row[field]
    for field, col in (("category", columns.category), ("expected_mode", columns.expected_mode)):
        if col and _clean(row.get(col)) is not None:
            data[field] = _clean(row[col])
    raw_id = _clean(row.get(columns.id)) if columns.id else None
    text = data.get("prompt") or str(data.get("messages"))
    data["id"] = str(raw_id) if raw_id is not None else stable_id(str(text))
    extra = {k: v for k, v in row.items() if k not in known and k not in data and k != "id"}
    if extra:
        data["metadata"] = {**extra, **data.get("metadata", {})}
    try:
        return PromptRecord.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(source, describe_validation_error(exc), line) from None


def _clean(value: Any) -> Any:
    """Treat NaN / empty cells of tabular sources as missing."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def iter_file_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` of a JSONL, CSV/TSV or Parquet file; bad files raise with file:line."""
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, "is a directory, expected a prompt file (jsonl, csv, parquet)")
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json", ".ndjson"}:
        yield from iter_jsonl_lines(path)
    elif suffix in {".csv", ".tsv"}:
        yield from _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        yield from _parquet_rows(path)
    else:
        raise InputFileError(path, f"unsupported prompt file type '{suffix}' (jsonl, csv, parquet)")


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    import csv

    try:
        # utf-8-sig: a CSV saved by Excel starts with a BOM, which would otherwise become part
        # of the first column's name (and silently lose an "id" column).
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            for row in reader:
                yield reader.line_num, dict(row)
    except UnicodeDecodeError:
        raise InputFileError(path, "not valid UTF-8 text") from None


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DeliberateError("reading Parquet needs pyarrow: pip install 'deliberate[data]'") from None
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
        line = 0
        for batch in batches:  # one batch of rows at a time: memory flat in the file's size
            for row in batch.to_pylist():
                line += 1
                yield line, row
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InputFileError(path, f"not a readable Parquet file ({exc})") from None


def _hf_rows(spec: str, split: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``hf:NAME`` or ``hf:NAME:SPLIT`` through ``datasets.load_dataset``."""
    try:
        from datasets import load_dataset
    except ImportError:
        raise DeliberateError("HF datasets need: pip install 'deliberate[data]'") from None
    name, _, maybe_split = spec.partition(":")
    dataset = load_dataset(name, split=maybe_split or split)
    for index, row in enumerate(dataset, start=1):
        yield index, dict(row)


def subsample(records: list[PromptRecord], limit: int | None, seed: int = 0) -> list[PromptRecord]:
    """A seeded random subset of ``limit`` records, in their original order.

    Benchmark files are sorted by category; the first N rows would cover one category only.
    """
    if limit is None or limit >= len(records):
        return records
    import random

    keep = set(random.Random(seed).sample(range(len(records)), limit))
    return [r for i, r in enumerate(records) if i in keep]
