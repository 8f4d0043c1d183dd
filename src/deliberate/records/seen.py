"""The ids a stream has seen, for its duplicate-id check, in memory that does not grow with N.

A Python set of 8-byte digests costs about 60 bytes a prompt: 60 MB at a million, 600 MB at ten
million. :class:`SeenIds` keeps the most recent ``spill_at`` digests in a set and moves them, a
batch at a time, into a temporary SQLite file (a ``WITHOUT ROWID`` table keyed by the digest,
deleted when closed), which answers membership from disk through its small page cache.
"""

from __future__ import annotations

import sqlite3

SPILL_AT = 100_000
"""Digests held in memory before they move to disk (about 6 MB)."""


def _signed(digest: int) -> int:
    """An unsigned 64-bit digest as SQLite's signed INTEGER."""
    return digest - (1 << 64) if digest >= 1 << 63 else digest


class SeenIds:
    """A set of 64-bit id digests (``in``, ``add``) whose memory stays bounded."""

    def __init__(self, *, spill_at: int = SPILL_AT) -> None:
        self.spill_at = spill_at
        self._recent: set[int] = set()
        self._db: sqlite3.Connection | None = None
        self._count = 0

    def __contains__(self, digest: object) -> bool:
        if digest in self._recent:
            return True
        if self._db is None or not isinstance(digest, int):
            return False
        row = self._db.execute("SELECT 1 FROM seen WHERE d = ?", (_signed(digest),)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return self._count

    def add(self, digest: int) -> bool:
        """Add ``digest``; False (and nothing changes) when it was already there."""
        if digest in self:
            return False
        self._recent.add(digest)
        self._count += 1
        if len(self._recent) >= self.spill_at:
            self._spill()
        return True

    def _spill(self) -> None:
        if self._db is None:
            self._db = sqlite3.connect("")  # "": a private temporary file, removed on close
            self._db.execute("CREATE TABLE seen (d INTEGER PRIMARY KEY) WITHOUT ROWID")
        with self._db:
            self._db.executemany("INSERT INTO seen VALUES (?)", ((_signed(d),) for d in self._recent))
        self._recent.clear()

    @property
    def on_disk(self) -> bool:
        """Whether some digests have moved to the temporary file."""
        return self._db is not None

    def close(self) -> None:
        """Drop the digests now (left alone, the connection closes, and its file goes, when
        the object is collected)."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._recent.clear()
