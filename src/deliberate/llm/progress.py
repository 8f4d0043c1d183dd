"""A rich progress bar for model calls: done / failed / rate / ETA.

The bar appears with the first result that needed a call (a run served wholly from the cache
shows none); cache hits before it count as done. Without a known total (a lazy stream of
requests) it shows the count and the rate instead of a bar and an ETA.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typing.Self is Python 3.11+
    from typing_extensions import Self


class RunProgress:
    """Thin wrapper so the runner does not depend on rich's API directly."""

    def __init__(self, description: str, *, total: int | None, done: int = 0,
                 enabled: bool = True) -> None:
        self.description = description
        self.total = total
        self.failed = 0
        self.completed = done
        self.enabled = enabled
        self._advanced = 0
        self._started = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        known = self.total is not None
        columns = [TextColumn("[bold]{task.description}"),
                   *([BarColumn(), MofNCompleteColumn(), TaskProgressColumn()] if known
                     else [TextColumn("{task.completed} done")]),
                   TextColumn("failed {task.fields[failed]}"), TextColumn("{task.fields[rate]}"),
                   TimeElapsedColumn(), *([TextColumn("ETA"), TimeRemainingColumn()] if known else [])]
        self._progress = Progress(*columns, console=Console(file=sys.stderr), transient=False)
        self._task = self._progress.add_task(self.description, total=self.total,
                                             completed=self.completed, failed=self.failed, rate="")
        self._progress.start()

    def advance(self, count: int = 1, *, failed: bool = False, cached: bool = False) -> None:
        """``count`` requests done (one result serving ``count`` identical requests)."""
        self.completed += count
        if failed:
            self.failed += count
        if cached:  # counted as done, but not in the rate, and no bar for a run of cache hits
            if self._progress is not None:
                self._progress.update(self._task, advance=count)
            return
        if self._progress is None and self.enabled:
            self.completed -= count
            self._start()
            self.completed += count
        if self._progress is not None:
            # Rate over the whole run, not rich's short window: a local model's batch of 32
            # arrives at once and would read as thousands per second.
            self._advanced += count
            elapsed = time.monotonic() - self._started
            rate = f"{self._advanced / elapsed:.2f}/s" if elapsed > 0 else ""
            self._progress.update(self._task, advance=count, failed=self.failed, rate=rate)

    def grow(self, count: int = 1) -> None:
        """``count`` more requests than the total said (a re-ask), where the total is known."""
        if self.total is not None:
            self.total += count
            if self._progress is not None:
                self._progress.update(self._task, total=self.total)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
