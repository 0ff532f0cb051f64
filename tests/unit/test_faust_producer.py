"""The producer buffer's flush: waits until the queued records are handed over, gives up
after 0.1 s without progress, as Faust's does (but with one wait, not one per record)."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest

from frugalflow.faust_producer import OneWaitProducerBuffer


class _Record(asyncio.Future[Any]):
    def __init__(self, channel: Any) -> None:
        super().__init__()
        self.message = SimpleNamespace(channel=channel)


class _Channel:
    """Hands records over after ``delay_s`` each; the broker "has" them right after."""

    def __init__(self, delay_s: float = 0.0, stuck: bool = False) -> None:
        self.delay_s, self.handed = delay_s, 0
        self.unstuck = asyncio.Event()
        if not stuck:
            self.unstuck.set()

    async def publish_message(self, record: _Record, wait: bool = False) -> None:
        await self.unstuck.wait()
        await asyncio.sleep(self.delay_s)
        self.handed += 1
        asyncio.get_running_loop().call_soon(record.set_result, None)


async def _buffer() -> OneWaitProducerBuffer:
    buffer = OneWaitProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    await buffer.start()
    return buffer


async def test_flush_returns_once_every_queued_record_is_handed_over() -> None:
    buffer, channel = await _buffer(), _Channel(delay_s=0.002)
    try:
        for _ in range(50):
            buffer.put(_Record(channel))  # type: ignore[arg-type]
        assert await buffer.flush_atmost(None) == 50
        assert channel.handed == 50 and buffer.size == 0
        assert await buffer.flush_atmost(None) == 0  # nothing queued: at once
    finally:
        await buffer.stop()


async def test_flush_atmost_waits_for_the_first_n_only() -> None:
    buffer, channel = await _buffer(), _Channel(delay_s=0.01)
    try:
        for _ in range(30):
            buffer.put(_Record(channel))  # type: ignore[arg-type]
        assert await buffer.flush_atmost(5) == 5
        assert 5 <= channel.handed < 30
        await buffer.flush_atmost(None)  # stopping with records queued raises, as in Faust
    finally:
        await buffer.stop()


async def test_a_stuck_sender_makes_the_flush_give_up_after_a_tenth_of_a_second() -> None:
    buffer, channel = await _buffer(), _Channel(stuck=True)
    try:
        for _ in range(3):
            buffer.put(_Record(channel))  # type: ignore[arg-type]
        started = time.monotonic()
        assert await buffer.flush_atmost(None) <= 1  # the one the stuck sender took
        assert time.monotonic() - started < 1.0
        channel.unstuck.set()
        # The first record was in the sender's hands (stuck) already: two were queued.
        assert await buffer.flush_atmost(None) == 2 and channel.handed == 3
    finally:
        await buffer.stop()


async def test_back_pressure_flushes_the_excess_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    buffer, channel = await _buffer(), _Channel(delay_s=0.001)
    buffer.max_messages = 10
    try:
        for _ in range(25):
            buffer.put(_Record(channel))  # type: ignore[arg-type]
        with caplog.at_level(logging.INFO):
            await buffer.wait_until_ebb()
        assert channel.handed >= 10  # the first max_messages were handed over before it returned
        assert not [r for r in caplog.records if r.levelno >= logging.INFO]
        await buffer.flush_atmost(None)
    finally:
        await buffer.stop()
