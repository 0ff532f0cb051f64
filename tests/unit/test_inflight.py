"""``CallsInFlight``: intake's immediate calls run beside it, bounded, and never fail silently."""

from __future__ import annotations

import asyncio

import pytest

from frugalflow.dispatch.inflight import CallsInFlight


async def test_start_returns_at_once_and_waits_only_for_a_free_slot() -> None:
    calls = CallsInFlight(limit=2)
    release = asyncio.Event()
    running: list[int] = []

    async def call(n: int) -> None:
        running.append(n)
        await release.wait()

    await calls.start(lambda: call(1))
    await calls.start(lambda: call(2))
    await asyncio.sleep(0)
    assert running == [1, 2] and len(calls) == 2
    third = asyncio.ensure_future(calls.start(lambda: call(3)))
    await asyncio.sleep(0.01)
    assert not third.done(), "a third call started past the limit"
    release.set()
    await asyncio.wait_for(third, 1)
    await asyncio.sleep(0.01)
    assert running == [1, 2, 3] and len(calls) == 0


async def test_a_failed_call_is_raised_once_in_the_caller_and_frees_its_slot() -> None:
    calls = CallsInFlight(limit=1)

    async def broken() -> None:
        raise RuntimeError("producer closed")

    await calls.start(broken)
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="producer closed"):
        calls.raise_failure()
    calls.raise_failure()  # reported once
    done = asyncio.Event()

    async def ok() -> None:
        done.set()

    await asyncio.wait_for(calls.start(ok), 1)  # the failed call's slot is free again
    await asyncio.wait_for(done.wait(), 1)


async def test_a_cancelled_call_is_not_a_failure() -> None:
    calls = CallsInFlight(limit=1)
    await calls.start(lambda: asyncio.sleep(10))
    (task,) = list(calls._tasks)
    task.cancel()
    await asyncio.sleep(0.01)
    calls.raise_failure()  # nothing to raise
    await asyncio.wait_for(calls.start(lambda: asyncio.sleep(0)), 1)
