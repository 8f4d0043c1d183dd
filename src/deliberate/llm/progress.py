"""A rich progress bar for model calls: done / failed / rate / ETA.

The bar appears with the first result that needed a call (a run served wholly from the cache
shows none); cache hits before it count as done. Without a known total (a lazy stream of
requests) it shows the count and the rate instead of a bar and an ETA.

A stage run in chunks (by the records layer's chunked driver) opens a stream of requests per chunk,
and re-asks open more: inside :func:`one_bar` every bar opened through :func:`open_progress` is
a view onto one bar for the whole run (one count, one rate, the inputs done in its title),
instead of some 500 bars for a million prompts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typing.Self is Python 3.11+
    from typing_extensions import Self


def _rate(count: int, seconds: float) -> str:
    """Requests a second, or seconds a request when slower than one in ten seconds (a local
    judge on CPU: "0.00/s" says nothing)."""
    if seconds <= 0 or count <= 0:
        return ""
    per_second = count / seconds
    return f"{per_second:.2f}/s" if per_second >= 0.1 else f"{seconds / count:.0f} s each"


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
            rate = _rate(self._advanced, elapsed)
            self._progress.update(self._task, advance=count, failed=self.failed, rate=rate)

    def grow(self, count: int = 1) -> None:
        """``count`` more requests than the total said (a re-ask), where the total is known."""
        if self.total is not None:
            self.total += count
            if self._progress is not None:
                self._progress.update(self._task, total=self.total)

    def describe(self, description: str) -> None:
        """A new title (shown from now on)."""
        self.description = description
        if self._progress is not None:
            self._progress.update(self._task, description=description)

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


class OneBar:
    """The bar of a whole chunked run; :func:`open_progress` hands out views onto it."""

    def __init__(self) -> None:
        self.bar: RunProgress | None = None
        self.title = ""

    def view(self, description: str, enabled: bool) -> _BarView:
        if self.bar is None:
            self.title = description
            self.bar = RunProgress(description, total=None, enabled=enabled)
        self.bar.enabled = enabled
        return _BarView(self.bar)

    def inputs_done(self, done: int, total: int | None = None) -> None:
        """Show how many of the run's inputs are finished (chunk by chunk) in the title."""
        if self.bar is not None:
            count = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
            self.bar.describe(f"{self.title} ({count} inputs done)")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _BarView(RunProgress):
    """One stream's handle on the shared bar: advances it; closing it leaves the bar up."""

    def __init__(self, bar: RunProgress) -> None:
        super().__init__(bar.description, total=None, enabled=False)
        self._bar = bar

    def advance(self, count: int = 1, *, failed: bool = False, cached: bool = False) -> None:
        self.completed += count
        self.failed += count if failed else 0
        self._bar.advance(count, failed=failed, cached=cached)

    def grow(self, count: int = 1) -> None:
        """The shared bar has no total to grow."""

    def close(self) -> None:
        """The bar stays up until :func:`one_bar` ends."""


_SHARED: ContextVar[OneBar | None] = ContextVar("deliberate_one_bar", default=None)


@contextmanager
def one_bar() -> Iterator[OneBar]:
    """Inside, every bar opened through :func:`open_progress` is a view onto one bar (nested
    calls share the outermost)."""
    current = _SHARED.get()
    if current is not None:
        yield current
        return
    shared = OneBar()
    token = _SHARED.set(shared)
    try:
        yield shared
    finally:
        _SHARED.reset(token)
        shared.close()


def open_progress(description: str, *, total: int | None, enabled: bool) -> RunProgress:
    """A bar for one stream of requests, or inside :func:`one_bar` a view onto that bar."""
    shared = _SHARED.get()
    if shared is None:
        return RunProgress(description, total=total, enabled=enabled)
    return shared.view(description, enabled)
