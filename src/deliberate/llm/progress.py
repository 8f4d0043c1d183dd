"""A rich progress bar for model calls: done / failed / rate / ETA."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing.Self is Python 3.11+
    from typing_extensions import Self


class RunProgress:
    """Thin wrapper so the runner does not depend on rich's API directly."""

    def __init__(self, description: str, *, total: int, done: int = 0, enabled: bool = True) -> None:
        self.description = description
        self.failed = 0
        self._advanced = 0
        self._started = time.monotonic()
        self._progress = None
        self._task = None
        if enabled and total > done:
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

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("failed {task.fields[failed]}"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr),
                transient=False,
            )
            self._task = self._progress.add_task(
                description, total=total, completed=done, failed=0, rate=""
            )

    def advance(self, *, failed: bool = False) -> None:
        if failed:
            self.failed += 1
        if self._progress is not None:
            # Rate over the whole run, not rich's short window: a local model's batch of 32
            # arrives at once and would read as thousands per second.
            self._advanced += 1
            elapsed = time.monotonic() - self._started
            rate = f"{self._advanced / elapsed:.2f}/s" if elapsed > 0 else ""
            self._progress.update(self._task, advance=1, failed=self.failed, rate=rate)

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
