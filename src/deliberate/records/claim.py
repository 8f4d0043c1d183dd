"""Claiming an output file: not one of the inputs, not a folder, and one writer at a time.

``--out`` equal to the input would destroy the input; two processes writing one ``--out`` would
lose one's records. A stage command claims its output for as long as it runs: the claim checks
the path and holds an exclusive lock (``fcntl.flock`` on a ``.<name>.lock`` file next to it), so
a second writer gets a clear error instead of a race.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from deliberate.errors import DeliberateError, InputFileError


@contextlib.contextmanager
def claim_output(out: str | Path, inputs: Sequence[str | Path | None] = (), *,
                 folder: bool = False) -> Iterator[Path]:
    """Hold ``out`` (a file, or with ``folder`` a run folder) for writing; DeliberateError if it
    is an input, the wrong kind of path, or already held by another process."""
    out = Path(out)
    if out.is_dir() != folder and out.exists():
        kind = "a folder" if folder else "a file path"
        raise InputFileError(out, f"--out takes {kind} here")
    for source in inputs:
        if source is not None and Path(source).exists() and _same_file(out, Path(source)):
            raise DeliberateError(f"--out {out} is also an input of this command; writing it "
                                  "would destroy the input: choose another path")
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.with_name(f".{out.name}.lock")
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        _lock(handle, out)
    except BaseException:
        handle.close()  # not ours: leave the holder's lock file alone
        raise
    try:
        yield out
    finally:
        lock_path.unlink(missing_ok=True)
        handle.close()


def _same_file(a: Path, b: Path) -> bool:
    return a.exists() and os.path.samefile(a, b) or a.resolve() == b.resolve()


def _lock(handle: object, out: Path) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking, the other checks still apply
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[attr-defined]
    except BlockingIOError:
        raise DeliberateError(f"{out} is being written by another deliberate process; wait for it "
                              "to finish or choose another --out") from None
