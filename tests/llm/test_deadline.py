"""``within``: a deadline that times out, passes results and errors, and never eats a cancel."""

from __future__ import annotations

import asyncio
import gc

import pytest

from deliberate.llm.deadline import _within_task, seconds, within

# ``within`` is asyncio.timeout on Python 3.11+; the task-based form of 3.10 keeps the same
# guarantees, and is tested here on every version.
DEADLINES = pytest.mark.parametrize("within", [within, _within_task], ids=["within", "task-based"])


async def _fail_after(delay: float) -> None:
    try:
        await asyncio.sleep(delay)
    finally:
        raise ValueError("finished badly")  # also when cancelled: the racing case


@DEADLINES
def test_result_error_and_time_out(within):
    async def go():
        assert await within(asyncio.sleep(0, result=7), 1) == 7
        with pytest.raises(ValueError):
            await within(_fail_after(0), 1)
        with pytest.raises(asyncio.TimeoutError):
            await within(asyncio.sleep(10), 0.05)

    asyncio.run(go())


@DEADLINES
def test_cancelling_a_nested_deadline_is_a_cancel_and_leaves_nothing_unretrieved(within):
    lost: list[dict] = []

    async def go():
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: lost.append(ctx))
        outer = asyncio.ensure_future(within(within(_fail_after(10), 5), 5))
        await asyncio.sleep(0.05)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer
        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(go())
    gc.collect()
    assert lost == []


def test_seconds_are_short():
    assert (seconds(300.0), seconds(0.25), seconds(299.97), seconds(2)) == ("300", "0.25", "300", "2")

