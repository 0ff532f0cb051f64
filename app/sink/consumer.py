"""The cost sink: ``llm.cost-events`` → Postgres through its own Kafka consumer.

The sink writes no Faust table, so it does not need Faust's per-record stream machinery,
which capped it at about 2,900 events/s (README, Performance). It reads with a plain
aiokafka consumer in its own group (``<app id>-cost-sink``) inside the worker process,
``max_records`` at a time, and inserts each batch in one statement.

Nothing lost, nothing counted twice:

* offsets are committed only after Postgres has every record up to them: up to two
  inserts run while the next batch is read, and their offsets are committed in order;
* while Postgres is away the insert is retried with backoff (``app.sink.retry``) and
  nothing is committed; a rebalance or restart reads the uncommitted records again,
  and the insert is idempotent on ``event_id``;
* Prometheus counts only the rows Postgres newly inserted.

A corrupt record is dead-lettered (``corrupt_internal_record``) and committed past.

The group is new for deployments upgraded from the Faust agent (group ``<app id>``): a
partition this group never committed starts where the old agent's group had committed,
so an upgrade neither skips events nor re-reads the topic's whole retention.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from app.events import CostEvent, DeadLetter
from app.pipeline import parse_record
from app.settings import Settings
from app.sink.metrics import count
from app.sink.retry import until_done
from app.sink.store import CostStore

log = logging.getLogger("frugalflow")

POLL_WHILE_INSERTING_MS = 20  # how often running inserts are checked while reading on
IN_FLIGHT = 2  # inserts at once (the store's pool has 4 connections)
TANSU_FETCH_WAIT_MS = 20  # Tansu answers a fetch only when its wait ends (app/kafka_compat.py)


def sink_group(settings: Settings) -> str:
    return f"{settings.app_id}-cost-sink"


@dataclass
class Batch:
    """One ``getmany``: its parsed events and the offsets to commit once they are stored."""

    events: list[CostEvent]
    offsets: dict[TopicPartition, int]  # next offset to read, per partition
    ids: set[str] = field(default_factory=set)  # a redelivered event goes in once


class CostSink:
    def __init__(
        self,
        settings: Settings,
        store: CostStore,
        publish_dead_letter: Callable[[DeadLetter, bytes | None], Awaitable[None]],
    ) -> None:
        self._settings = settings
        self._store = store
        self._publish_dead_letter = publish_dead_letter
        self._topic = settings.topic("llm.cost-events")

    def _consumer(self) -> AIOKafkaConsumer:
        tansu = self._settings.broker_flavor == "tansu"
        return AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            group_id=sink_group(self._settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._settings.sink_batch_size,
            fetch_max_wait_ms=TANSU_FETCH_WAIT_MS if tansu else 500,
            session_timeout_ms=int(self._settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(max(1.0, self._settings.session_timeout_s / 10) * 1000),
            # Postgres may be away for long: the consumer stays in its group meanwhile.
            max_poll_interval_ms=24 * 3600 * 1000,
        )

    async def run(self) -> None:
        consumer = self._consumer()
        consumer.subscribe([self._topic], listener=_StartWhereTheAgentStopped(consumer, self))
        await consumer.start()
        size = self._settings.sink_batch_size
        wait_ms = int(self._settings.sink_batch_seconds * 1000)
        # Group commit: while inserts run, the next batch fills (up to ``size``), so batches
        # grow with the load and Postgres's round trips overlap the reading. Up to
        # IN_FLIGHT inserts run at once (the roll-up upsert locks rows in one order, so
        # they cannot deadlock); offsets are committed in order, oldest insert first.
        filling = Batch([], {})
        running: deque[tuple[Batch, asyncio.Task[set[str]]]] = deque()
        try:
            while True:
                room = size - len(filling.events)
                if room > 0:
                    records = await consumer.getmany(
                        timeout_ms=POLL_WHILE_INSERTING_MS if running else wait_ms,
                        max_records=room,
                    )
                    await self._add(filling, records)
                must_wait = room <= 0 and len(running) >= IN_FLIGHT
                while running and (running[0][1].done() or must_wait):
                    stored, task = running.popleft()
                    count(stored.events, await task)
                    await consumer.commit(stored.offsets)
                    must_wait = False
                if filling.offsets and len(running) < IN_FLIGHT:
                    insert = partial(self._store.insert, filling.events)
                    task = asyncio.ensure_future(until_done("Postgres write", insert))
                    running.append((filling, task))
                    filling = Batch([], {})
        finally:
            for _, task in running:
                task.cancel()
            await consumer.stop()

    async def _add(
        self, batch: Batch, records: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> None:
        for tp, part in records.items():
            for record in part:
                event = await self._event(record)
                if event is not None and event.event_id not in batch.ids:
                    batch.ids.add(event.event_id)
                    batch.events.append(event)
            batch.offsets[tp] = part[-1].offset + 1

    async def _event(self, record: ConsumerRecord[Any, Any]) -> CostEvent | None:
        parsed = parse_record(CostEvent, record)
        if isinstance(parsed, DeadLetter):
            await self._publish_dead_letter(parsed, record.key)
            return None
        return parsed

    async def legacy_offsets(
        self, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """Where the Faust agent's group (``<app id>``) had committed these partitions."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(
                self._settings.app_id, partitions=list(partitions)
            )
        finally:
            await admin.close()
        return {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}


class _StartWhereTheAgentStopped(ConsumerRebalanceListener):  # type: ignore[misc]
    """A partition without a commit of this group starts at the old agent group's commit."""

    def __init__(self, consumer: AIOKafkaConsumer, sink: CostSink) -> None:
        self._consumer = consumer
        self._sink = sink

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None  # commits follow inserts: nothing uncommitted is worth saving here

    async def on_partitions_assigned(self, assigned: Any) -> None:
        fresh = [tp for tp in assigned if await self._consumer.committed(tp) is None]
        if not fresh:
            return
        try:
            legacy = await self._sink.legacy_offsets(fresh)
        except Exception as exc:  # no old group (a new deployment) or unreachable: earliest
            log.info("cost sink: no earlier offsets to start from (%s)", type(exc).__name__)
            return
        for tp, offset in legacy.items():
            self._consumer.seek(tp, offset)
            log.info("cost sink: %s starts at %d, where the agent group stopped", tp, offset)
