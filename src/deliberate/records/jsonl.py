"""JSONL storage for records: validated reads, atomic writes, crash-safe appends.

One record a line, UTF-8. Reading validates every line against the record's pydantic model and
reports the file and line of the first bad one. Whole-file writes go through a temp file and
``os.replace`` so a crash leaves either the old file or the new one. Stage outputs that grow as
work finishes use :class:`JsonlAppender` (flush + fsync per batch); a crash can at worst leave a
torn last line, which :func:`read_jsonl` drops when ``allow_torn_tail`` is set. Reading streams
(one line at a time), so files of any size are read with flat memory;
:mod:`deliberate.records.resume` builds resumable, input-ordered stage outputs on these.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from deliberate.errors import InputFileError

if TYPE_CHECKING:  # typing.Self is Python 3.11+
    from typing_extensions import Self

R = TypeVar("R", bound=BaseModel)
BLOCK = 1 << 20


def iter_jsonl_lines(path: str | Path, *, allow_torn_tail: bool = False) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each non-blank line; errors name file and line.

    The file is read one line at a time (memory is flat in its size). A UTF-8 BOM before the
    first line is skipped. With ``allow_torn_tail``, a last line that has no newline and is not
    valid JSON (a writer killed mid-line) is dropped instead of being an error.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, "is a directory, expected a JSONL file")
    with open(path, "rb") as handle:
        for number, chunk in enumerate(handle, start=1):
            if number == 1:
                chunk = chunk.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM (Windows editors)
            if not chunk.strip():
                continue
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                raise InputFileError(path, "not valid UTF-8 text", line=number) from None
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                if allow_torn_tail and not chunk.endswith(b"\n"):
                    return  # the writer died mid-line; the record was never complete
                raise InputFileError(path, f"bad JSON ({exc.msg}, column {exc.colno})", number) from None
            if not isinstance(obj, dict):
                raise InputFileError(path, "expected a JSON object", line=number)
            yield number, obj


def read_jsonl(
    path: str | Path,
    model: type[R],
    *,
    allow_empty: bool = False,
    allow_torn_tail: bool = False,
) -> list[R]:
    """Read and validate every line of a JSONL file as ``model``."""
    records = [rec for _, rec in iter_records(path, model, allow_torn_tail=allow_torn_tail)]
    if not records and not allow_empty:
        raise InputFileError(path, "file is empty (no records)")
    return records


def iter_records(
    path: str | Path, model: type[R], *, allow_torn_tail: bool = False
) -> Iterator[tuple[int, R]]:
    """Yield ``(line_number, record)``; a validation error names the field and the line."""
    for number, obj in iter_jsonl_lines(path, allow_torn_tail=allow_torn_tail):
        try:
            yield number, model.model_validate(obj)
        except ValidationError as exc:
            raise InputFileError(path, describe_validation_error(exc), line=number) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first failing field."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "record"
    msg = "required field is missing" if err["type"] == "missing" else err["msg"]
    return f"{field}: {msg.removeprefix('Value error, ')}"


def dump_record(record: BaseModel) -> str:
    """Canonical one-line JSON of a record (no trailing newline)."""
    return record.model_dump_json(exclude_none=False)


def write_jsonl(path: str | Path, records: Iterable[BaseModel]) -> int:
    """Write records atomically (temp file + fsync + rename); returns the count."""
    return write_lines_atomic(path, (dump_record(record) + "\n" for record in records))


def write_lines_atomic(path: str | Path, lines: Iterable[str]) -> int:
    """Write text lines through a temp file, fsync and rename: a crash leaves the old file or the
    new one, never half of one, and no temp file. Returns how many lines were written."""
    path = Path(path)
    if path.is_dir():
        raise InputFileError(path, "is a directory; give a file path to write")
    count = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputFileError(path, f"cannot write here ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line)
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # disk full, quota, permissions: one line naming the file
        Path(tmp).unlink(missing_ok=True)
        raise InputFileError(path, f"cannot write ({exc.strerror or exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


class JsonlAppender:
    """Append-only JSONL writer for results that arrive over time.

    Each :meth:`write` batch is flushed and fsynced, so everything written before a crash
    survives; a torn final line is repaired (dropped) when the file is opened again.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _drop_torn_tail(self.path)
        self._handle: IO[str] = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def write(self, records: Iterable[BaseModel]) -> None:
        lines = [dump_record(r) + "\n" for r in records]
        if not lines:
            return
        self._handle.write("".join(lines))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def complete_size(path: str | Path) -> int:
    """Bytes of ``path`` up to the end of its last complete (newline-ended) line; 0 if none.

    Reads backwards from the end in blocks, so a torn tail is found without reading the file.
    """
    with open(path, "rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            start = max(0, position - BLOCK)
            handle.seek(start)
            found = handle.read(position - start).rfind(b"\n")
            if found >= 0:
                return start + found + 1
            position = start
    return 0


def count_complete_lines(path: str | Path) -> int:
    """How many complete (newline-ended) lines ``path`` holds, torn tail not counted; 0 if it
    does not exist. A stage whose output has one line per input skips that many inputs."""
    path = Path(path)
    if not path.exists():
        return 0
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            count += block.count(b"\n")
    return count


def drop_torn_tail(path: str | Path) -> int:
    """Cut a torn last line off ``path`` (a writer killed mid-line); returns the size kept."""
    keep = complete_size(path)
    if Path(path).stat().st_size != keep:
        with open(path, "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    return keep


def _drop_torn_tail(path: Path) -> None:
    if path.exists():
        drop_torn_tail(path)
