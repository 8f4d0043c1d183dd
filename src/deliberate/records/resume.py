"""Stage outputs written as results stream in, in input order, resumable after a kill.

A stage that streams (:func:`deliberate.llm.iter_results`) gets its results in input order, so
its output can be written as it goes: the lines for input ``i`` come after those for every
earlier input. :class:`ResumableOutput` writes one or more JSONL files that way (say records and
failures), append-only, and after every batch of inputs (``every`` inputs or ``seconds``
seconds, whichever first) it flushes and fsyncs the files, then atomically replaces a small
checkpoint file with: how many inputs are done, each file's size at that point, and a digest of
the done inputs' keys.

After a kill (at any instant), opening the same output again cuts each file back to the size the
checkpoint recorded (dropping lines of a batch that was not checkpointed, and any torn line), and
:meth:`ResumableOutput.resume` skips the done inputs, checking their keys against the digest
(other inputs than last time are an error, not a silently mixed file). The rerun writes the rest.
With the response cache, a resumed run's files are byte for byte what an uninterrupted run
writes: every earlier result is the same, and later ones come from the cache or are new.

Without a checkpoint the files are started afresh. :meth:`ResumableOutput.finish` removes the
checkpoint once everything is written. Outputs with exactly one line per input can do without
a checkpoint: :func:`~deliberate.records.jsonl.count_complete_lines` is how many inputs to skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from deliberate.errors import DeliberateError, InputFileError
from deliberate.records.jsonl import dump_record, write_lines_atomic

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")


class ResumableOutput:
    """Input-ordered JSONL files with a checkpoint; see the module docstring.

    Args:
        files: a name for each output file (``{"records": out, "failures": failures}``).
        checkpoint: where the checkpoint lives (e.g. ``out.progress.json``).
        every: inputs per committed batch; ``seconds``: longest wait between commits.
    """

    def __init__(self, files: Mapping[str, str | Path], checkpoint: str | Path, *,
                 every: int = 256, seconds: float = 5.0) -> None:
        self.paths = {name: Path(path) for name, path in files.items()}
        self.checkpoint = Path(checkpoint)
        self.every, self.seconds = every, seconds
        state = self._read_checkpoint()
        self.done = int(state.get("done", 0))
        self._digest_at_open = str(state.get("digest", ""))
        self._digest = hashlib.sha256()
        self._buffers: dict[str, list[str]] = {name: [] for name in self.paths}
        self._pending = 0
        self._last_commit = time.monotonic()
        sizes = state.get("sizes", {})
        self._handles: dict[str, IO[bytes]] = {
            name: _open_at(path, int(sizes.get(name, 0))) for name, path in self.paths.items()}

    def _read_checkpoint(self) -> dict[str, Any]:
        if not self.checkpoint.exists():
            return {}
        try:
            state = json.loads(self.checkpoint.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputFileError(self.checkpoint, f"unreadable checkpoint ({exc})") from None
        if not isinstance(state, dict) or set(state.get("sizes", {})) != set(self.paths):
            raise InputFileError(self.checkpoint, "checkpoint of other output files; remove it "
                                 "to start over")
        return state

    def resume(self, inputs: Iterable[T], key: Callable[[T], str]) -> Iterator[T]:
        """The inputs not yet done: the first :attr:`done` are skipped, their keys checked."""
        source = iter(inputs)
        for skipped in range(self.done):
            item = next(source, _END)
            if item is _END:
                raise self._changed(f"there are only {skipped} inputs")
            self._digest.update(_key_bytes(key(item)))  # type: ignore[arg-type]
        if self.done and self._digest.hexdigest() != self._digest_at_open:
            raise self._changed("its first inputs are not the ones it was written from")
        yield from source

    def _changed(self, why: str) -> DeliberateError:
        return DeliberateError(f"cannot resume {self.checkpoint} ({self.done} inputs done): "
                               f"{why}; remove it to start over")

    def write(self, name: str, record: BaseModel | str) -> None:
        """Append one record (or one JSON line) to file ``name`` for the current input."""
        line = record if isinstance(record, str) else dump_record(record)
        self._buffers[name].append(line + "\n")

    def input_done(self, key: str) -> None:
        """The current input's lines are all written; commit when a batch is complete."""
        self._digest.update(_key_bytes(key))
        self._pending += 1
        if self._pending >= self.every or time.monotonic() - self._last_commit >= self.seconds:
            self.commit()

    def commit(self) -> None:
        """Write, flush and fsync the buffered lines, then checkpoint them."""
        for name, handle in self._handles.items():
            if self._buffers[name]:
                handle.write("".join(self._buffers[name]).encode("utf-8"))
                self._buffers[name].clear()
            handle.flush()
            os.fsync(handle.fileno())
        self.done += self._pending
        self._pending = 0
        self._last_commit = time.monotonic()
        state = {"done": self.done, "digest": self._digest.hexdigest(),
                 "sizes": {name: handle.tell() for name, handle in self._handles.items()}}
        write_lines_atomic(self.checkpoint, [json.dumps(state) + "\n"])

    def finish(self) -> None:
        """Commit, close the files and remove the checkpoint: the output is complete."""
        self.close()
        self.checkpoint.unlink(missing_ok=True)

    def close(self) -> None:
        """Commit what is buffered and close the files (the checkpoint stays: resumable)."""
        if not self._handles:
            return
        self.commit()
        for handle in self._handles.values():
            handle.close()
        self._handles = {}

    def abandon(self) -> None:
        """Close the files without committing what is buffered: a batch cut short (by an
        exception) is dropped, and the checkpoint still describes the last complete one."""
        for name in self._buffers:
            self._buffers[name].clear()
        self._pending = 0
        for handle in self._handles.values():
            handle.close()
        self._handles = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_END = object()


def _key_bytes(key: str) -> bytes:
    return key.encode("utf-8") + b"\n"


def _open_at(path: Path, size: int) -> IO[bytes]:
    """``path`` opened for appending after its first ``size`` bytes (the rest is cut off)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    present = path.stat().st_size if path.exists() else 0
    if present < size:
        raise InputFileError(path, f"shorter ({present} bytes) than its checkpoint says "
                             f"({size}); remove the checkpoint to start over")
    handle = open(path, "ab" if path.exists() else "wb")  # noqa: SIM115 - closed by close()
    handle.truncate(size)
    handle.seek(size)
    return handle
