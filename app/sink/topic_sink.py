"""A topic → Postgres sink on its own aiokafka consumer: the cost sink and the activity sinks.

These sinks write no Faust table, so they do not need Faust's per-record stream
machinery, which capped the cost sink at about 2,900 events/s (README, Performance).
Each reads with a plain aiokafka consumer in its own group (``<app id>-<name>``) inside
the worker process, ``FRUGALFLOW_SINK_BATCH_SIZE`` records at most per write.

Nothing lost, nothing written twice:

* offsets are committed only after Postgres has every record up to them: while up to
  ``IN_FLIGHT`` writes run, the next batch is read and parsed (so batches grow with the
  load), and offsets are committed in order, oldest write first;
* while Postgres is away a write is retried with backoff (``frugalflow.sink.retry``) and
  nothing is committed; a rebalance or restart reads the uncommitted records again, and
  every write is idempotent (on ``event_id``, an alert's id, a batch slice's key).

Where a new group starts: a partition this group never committed starts where the
worker's Faust group (the app id) had committed it, so a deployment upgraded from the
Faust agents neither skips records nor re-reads the topic's whole retention.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeAlias, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from frugalflow.settings import Settings
from frugalflow.sink.retry import until_done

log = logging.getLogger("frugalflow")

T = TypeVar("T")
Record: TypeAlias = ConsumerRecord[Any, Any]

POLL_WHILE_WRITING_MS = 20  # how often running writes are checked while reading on
IN_FLIGHT = 4  # writes at once: the cost store has 4 connections; an activity sink queues on 1
LOOKUP_ATTEMPTS = 10  # tries to read where the app group stopped, a second apart
TANSU_FETCH_WAIT_MS = 20  # Tansu answers a fetch only when its wait ends (app/kafka_compat.py)
# A sink trails the traffic by design, so its fetches wait for a batch's worth of records,
# or FETCH_MAX_WAIT_MS: with Kafka's default of one byte, every answer the worker
# published woke this consumer, the worker's loop and the broker for a fetch of about one
# record (a fifth of the immediate path's CPU per request; README, Performance). The
# wait is short because a backlog's last, partial fetch waits it out in full.
FETCH_MIN_BYTES = 256 * 1024
FETCH_MAX_WAIT_MS = 100


@dataclass
class Batch(Generic[T]):
    """What one write stores, and the offsets to commit once it is stored."""

    items: list[T] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)  # next offset to read


def sink_group(settings: Settings, name: str) -> str:
    return f"{settings.app_id}-{name}"


class TopicSink(Generic[T]):
    """``read`` turns a record into what ``write`` stores (None: nothing to store)."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        name: str,
        read: Callable[[Record], Awaitable[T | None]],
        write: Callable[[list[T]], Awaitable[object]],
    ) -> None:
        self._settings = settings
        self._topic = settings.topic(topic)
        self.name = name
        self._read = read
        self._write = write

    def _consumer(self) -> AIOKafkaConsumer:
        tansu = self._settings.broker_flavor == "tansu"
        return AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            group_id=sink_group(self._settings, self.name),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._settings.sink_batch_size,
            fetch_max_wait_ms=TANSU_FETCH_WAIT_MS if tansu else FETCH_MAX_WAIT_MS,
            fetch_min_bytes=FETCH_MIN_BYTES,
            session_timeout_ms=int(self._settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(max(1.0, self._settings.session_timeout_s / 10) * 1000),
            # Postgres may be away for long: the consumer stays in its group meanwhile.
            max_poll_interval_ms=24 * 3600 * 1000,
        )

    async def run(self) -> None:
        consumer = self._consumer()
        consumer.subscribe([self._topic], listener=_StartWhereTheAppGroupStopped(consumer, self))
        await consumer.start()
        size = self._settings.sink_batch_size
        wait_ms = int(self._settings.sink_batch_seconds * 1000)
        filling: Batch[T] = Batch()
        running: deque[tuple[Batch[T], asyncio.Task[object]]] = deque()
        try:
            while True:
                room = size - len(filling.items)
                if room > 0:
                    records = await consumer.getmany(
                        timeout_ms=POLL_WHILE_WRITING_MS if running else wait_ms,
                        max_records=room,
                    )
                    await self._add(filling, records)
                must_wait = room <= 0 and len(running) >= IN_FLIGHT
                while running and (running[0][1].done() or must_wait):
                    stored, task = running.popleft()
                    await task
                    await consumer.commit(stored.offsets)
                    must_wait = False
                if filling.offsets and len(running) < IN_FLIGHT:
                    what = f"Postgres write ({self.name})"
                    write = partial(self._write, filling.items)
                    running.append((filling, asyncio.ensure_future(until_done(what, write))))
                    filling = Batch()
        finally:
            for _, task in running:
                task.cancel()
            await consumer.stop()

    async def _add(self, batch: Batch[T], records: dict[TopicPartition, list[Record]]) -> None:
        for tp, part in records.items():
            for record in part:
                item = await self._read(record)
                if item is not None:
                    batch.items.append(item)
            batch.offsets[tp] = part[-1].offset + 1

    async def app_group_offsets(
        self, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """Where the worker's Faust group (``<app id>``) had committed these partitions."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(
                self._settings.app_id, partitions=list(partitions)
            )
        finally:
            await admin.close()
        return {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}


class _StartWhereTheAppGroupStopped(ConsumerRebalanceListener):  # type: ignore[misc]
    """A partition without a commit of this group starts at the app group's commit."""

    def __init__(self, consumer: AIOKafkaConsumer, sink: TopicSink[Any]) -> None:
        self._consumer = consumer
        self._sink = sink

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None  # commits follow writes: nothing uncommitted is worth saving here

    async def on_partitions_assigned(self, assigned: Any) -> None:
        # aiokafka starts fetching the new partitions before it calls this listener, and
        # the lookups below take a while: paused, no record of theirs reaches getmany
        # until each sits where it should start (a seek drops what was fetched before).
        self._consumer.pause(*assigned)
        try:
            await self._start_where_the_app_group_stopped(assigned)
        finally:
            self._consumer.resume(*assigned)

    async def _start_where_the_app_group_stopped(self, assigned: Any) -> None:
        fresh = [tp for tp in assigned if await self._consumer.committed(tp) is None]
        if not fresh:
            return
        earlier: dict[TopicPartition, int] = {}
        for attempt in range(LOOKUP_ATTEMPTS):
            try:  # a group that never existed (a new deployment) gives {}: earliest
                earlier = await self._sink.app_group_offsets(fresh)
                break
            except Exception as exc:  # e.g. the group coordinator is not elected yet
                log.info("%s: looking up the app group's offsets failed (%s)", self._sink.name,
                         type(exc).__name__)  # fmt: skip
                if attempt + 1 < LOOKUP_ATTEMPTS:
                    await asyncio.sleep(1.0)
        else:
            log.warning("%s: the app group's offsets could not be read; the partitions "
                        "start at their earliest record (writes are idempotent)",
                        self._sink.name)  # fmt: skip
        for tp, offset in earlier.items():
            self._consumer.seek(tp, offset)
            log.info("%s: %s starts at %d, where the app group stopped", self._sink.name, tp,
                     offset)  # fmt: skip
