"""Faust's producer, whose buffer flush waits once per 0.1 s instead of once per record.

Table writes go through Faust's ``ProducerBuffer``: a queue that one task hands to aiokafka,
record by record. ``ProducerBuffer.flush_atmost`` (faust-streaming 0.15.3) waits for that
task one record at a time, each wait an ``asyncio.wait_for`` (a task, a timer, an event
waiter). It runs before every offset commit, on every ``producer.flush()`` (the batch
ledger makes each batch's intent durable before the provider call) and, as back-pressure,
whenever more than 100 records are queued when an event arrives. Under
``bench throughput`` those waits were about 6 % of the worker's CPU (README, Performance).

:class:`OneWaitProducerBuffer` keeps the semantics (returns once the records queued when it
was called, or the first ``max_messages`` of them, are handed to aiokafka; gives up after
0.1 s in which no record was handed over, as Faust does) but waits on the last of those
records' own future, which resolves once the broker has it: one wait per flush (and per
0.1 s), not one per record. Records leave the queue in order, so once the last one has
left it, every one before it has too. A table change queued as a plain
``ChangelogRecord`` (``frugalflow.faust_sends``) is handed over by the same task, and a
flush waiting for it waits on a future the record makes only then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.transport.producer import ProducerBuffer

from frugalflow.faust_sends import ChangelogRecord

STALL_S = 0.1  # Faust's own: a flush that sees no record sent for this long returns

logger = logging.getLogger(__name__)


class OneWaitProducerBuffer(ProducerBuffer):
    async def flush_atmost(self, max_messages: int | None) -> int:
        if self.app is not None and self.app.conf.producer_threaded:
            return await super().flush_atmost(max_messages)
        queue = self.pending._queue  # type: ignore[attr-defined]  # asyncio.Queue's deque
        if not queue:
            return 0
        if self.state != "running":
            raise RuntimeError("Cannot flush: Producer not Running")
        mine = list(queue)[: len(queue) if max_messages is None else max_messages]
        last = mine[-1]
        handed = last.handed_over() if isinstance(last, ChangelogRecord) else last
        while not handed.done():
            self.message_sent.clear()  # set by the sending task after each record
            await asyncio.wait((handed,), timeout=STALL_S)
            if handed.done() or last not in queue:
                break  # aiokafka has it, and every record before it
            if not self.message_sent.is_set():  # no record sent for STALL_S: give up
                left = {id(future) for future in queue}
                return sum(id(future) not in left for future in mine)
        return len(mine)

    async def _send_pending(self, fut: Any) -> None:
        if isinstance(fut, ChangelogRecord):  # a table change (frugalflow.faust_sends)
            assert self.app is not None
            await fut.send(self.app)
        else:
            await super()._send_pending(fut)

    async def wait_until_ebb(self) -> None:
        # Faust's own logs a WARNING and an INFO line each time; under a burst, table writes
        # outpacing their sends is the expected back-pressure, not a fault: debug lines.
        if self.size > self.max_messages:
            started = time.monotonic()
            size = self.size
            await self.flush_atmost(self.max_messages)
            logger.debug("producer buffer held %d records; flushed for %.3f s", size,
                         time.monotonic() - started)  # fmt: skip


class OneWaitProducer(faust_aiokafka.Producer):
    """Faust's aiokafka producer with :class:`OneWaitProducerBuffer`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        buffer = OneWaitProducerBuffer(loop=self.loop, beacon=self.beacon)
        buffer.app = self.app
        if self.threaded_producer is not None:
            buffer.threaded_producer = self.threaded_producer
        self.buffer = buffer
