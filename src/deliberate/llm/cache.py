"""Persistent response cache in SQLite: what makes re-runs free and killed runs resumable.

Each successful response is stored under its request's content hash (one row per key;
``INSERT OR IGNORE`` so nothing is stored twice). The streaming runner writes through a
:class:`CacheWriter`: responses are buffered and written in one transaction per batch
(``executemany``, committed), and the writer is flushed before any result it holds is handed
to the caller, so whatever a caller has seen is in the cache. Failures are not cached, so a
re-run retries them. WAL mode lets several processes (e.g. reward workers under
``accelerate``) share one cache file.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from deliberate.errors import DeliberateError
from deliberate.llm.types import ModelResponse

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    """``$DELIBERATE_CACHE`` or the user cache dir (``~/.cache/deliberate/responses.sqlite``)."""
    import os

    from platformdirs import user_cache_dir

    env = os.environ.get("DELIBERATE_CACHE")
    return Path(env) if env else Path(user_cache_dir("deliberate")) / "responses.sqlite"


class ResponseCache:
    """Key -> :class:`ModelResponse` store backed by one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise DeliberateError(f"--cache {self.path}: is a folder; give a file path "
                                  "(e.g. cache.sqlite)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise DeliberateError(f"--cache {self.path}: not a usable SQLite response cache "
                                  f"({exc})") from None

    def get_many(self, keys: Iterable[str]) -> dict[str, ModelResponse]:
        """Cached responses for the keys that have one."""
        keys = list(keys)
        found: dict[str, ModelResponse] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, response FROM responses WHERE key IN ({marks})", chunk
            )
            for key, blob in rows:
                found[key] = ModelResponse.model_validate_json(blob)
        return found

    def has_many(self, keys: Iterable[str]) -> set[str]:
        """The keys that have a cached response (without reading the responses)."""
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", chunk)
            found.update(key for (key,) in rows)
        return found

    def put(self, key: str, model: str, response: ModelResponse) -> None:
        """Store one response durably (committed before returning)."""
        self._db.execute(
            "INSERT OR IGNORE INTO responses (key, model, response, created) VALUES (?, ?, ?, ?)",
            (key, model, response.model_dump_json(), time.time()),
        )

    def put_many(self, rows: Iterable[tuple[str, str, ModelResponse]]) -> None:
        """Store ``(key, model, response)`` rows in one transaction (committed on return)."""
        now = time.time()
        values = [(key, model, response.model_dump_json(), now) for key, model, response in rows]
        if not values:
            return
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT OR IGNORE INTO responses (key, model, response, created) VALUES (?, ?, ?, ?)",
                values)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class CacheWriter:
    """Buffers new responses for one model; writes them ``every`` at a time, or on :meth:`flush`."""

    def __init__(self, cache: ResponseCache | None, model: str, *, every: int = 256) -> None:
        self.cache = cache
        self.model = model
        self.every = every
        self.flushes = 0
        self._rows: list[tuple[str, str, ModelResponse]] = []

    def add(self, key: str, response: ModelResponse) -> None:
        if self.cache is None:
            return
        self._rows.append((key, self.model, response))
        if len(self._rows) >= self.every:
            self.flush()

    def flush(self) -> None:
        """Commit what is buffered; after this every response added so far is durable."""
        if self._rows and self.cache is not None:
            rows, self._rows = self._rows, []
            self.cache.put_many(rows)
            self.flushes += 1
