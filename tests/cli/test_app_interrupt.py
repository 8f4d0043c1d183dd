"""Ctrl-C inside an asyncio task: one line, exit 130, no traceback from the orphaned task."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from deliberate.cli import app


def test_an_interrupt_inside_a_task_leaves_no_task_traceback(caplog):
    async def worker():
        raise KeyboardInterrupt  # what the SIGINT handler does when it lands in a task's step

    async def main():
        task = asyncio.ensure_future(worker())
        await asyncio.sleep(0.01)
        return task

    loop = asyncio.new_event_loop()
    with caplog.at_level(logging.ERROR, logger="asyncio"), pytest.raises(KeyboardInterrupt):
        loop.run_until_complete(main())
    app.quiet_orphaned_tasks()
    try:
        loop.close()
        gc.collect()
        assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    finally:
        logging.getLogger("asyncio").disabled = False
