"""The cost sink (a TopicSink) on real Kafka and Postgres: where it starts, what it skips.

An upgraded deployment's sink group starts where the old Faust agent's group (the app id)
had committed; a corrupt record is dead-lettered and passed; offsets are committed only
for stored rows, so a restarted sink stores nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import SecretStr

from frugalflow.bench.sink import synthetic_events
from frugalflow.events import DeadLetter
from frugalflow.settings import Settings
from frugalflow.sink.consumer import NAME, cost_sink
from frugalflow.sink.store import CostStore, connect_store
from frugalflow.sink.topic_sink import TopicSink, sink_group


def settings_for(kafka: str, dsn: str, prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka,
        database_url=SecretStr(dsn),
        topic_prefix=prefix,
        app_id=prefix.rstrip("."),
        partitions=1,
        sink_batch_seconds=0.2,
    )


async def publish(kafka: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value=value, key=b"sink-t0", partition=0)
        await producer.flush()
    finally:
        await producer.stop()


async def commit_as(kafka: str, group: str, topic: str, offset: int) -> None:
    # No auto-commit: it would commit wherever the fetcher got to when the consumer stops.
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


async def rows(dsn: str, pattern: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetch(
            "SELECT request_id FROM cost_events WHERE request_id LIKE $1", pattern
        )
        return sorted(r["request_id"] for r in found)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def running(sink: TopicSink[Any]) -> AsyncIterator[None]:
    task = asyncio.ensure_future(sink.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_rows(dsn: str, pattern: str, n: int) -> list[str]:
    for _ in range(150):
        found = await rows(dsn, pattern)
        if len(found) >= n:
            return found
        await asyncio.sleep(0.1)
    return await rows(dsn, pattern)


async def test_the_sink_starts_where_the_agent_group_stopped_and_skips_corrupt_records(
    kafka_bootstrap: str, postgres_dsn: str, isolated_prefix: str
) -> None:
    settings = settings_for(kafka_bootstrap, postgres_dsn, isolated_prefix)
    topic = settings.topic("llm.cost-events")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    run = isolated_prefix.rstrip(".")
    events = synthetic_events(run, 12)
    # 0-3: stored by the old agent (its group committed 4); then a corrupt record; 4-11.
    values = [e.model_dump_json().encode() for e in events]
    await publish(kafka_bootstrap, topic, [*values[:4], b"{not json", *values[4:]])
    await commit_as(kafka_bootstrap, settings.app_id, topic, 4)

    letters: list[DeadLetter] = []

    async def dead_letter(letter: DeadLetter, key: bytes | None) -> None:
        letters.append(letter)

    store: CostStore = await connect_store(settings.database_url)
    try:
        tp = TopicPartition(topic, 0)
        group = sink_group(settings, NAME)
        async with running(cost_sink(settings, store, dead_letter)):
            stored = await wait_rows(postgres_dsn, f"{run}-%", 8)
            # Committed once stored: up to the end (13 records, the corrupt one included).
            assert await wait_offset(kafka_bootstrap, group, tp, 13) == 13
        assert stored == sorted(f"{run}-{i}" for i in range(4, 12))
        assert [(d.reason, d.offset) for d in letters] == [("corrupt_internal_record", 4)]
        await publish(kafka_bootstrap, topic, [values[5]])  # an event stored already
        # A restart starts from its own commit: the one new record, already stored, once.
        async with running(cost_sink(settings, store, dead_letter)):
            assert await wait_offset(kafka_bootstrap, group, tp, 14) == 14
        assert await rows(postgres_dsn, f"{run}-%") == stored  # once, not twice
        assert len(letters) == 1
    finally:
        await store.close()


async def wait_offset(kafka: str, group: str, tp: TopicPartition, offset: int) -> int:
    for _ in range(150):
        if (now := await admin_offset(kafka, group, tp)) >= offset:
            return now
        await asyncio.sleep(0.1)
    return await admin_offset(kafka, group, tp)


async def admin_offset(kafka: str, group: str, tp: TopicPartition) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        return committed[tp].offset if tp in committed else -1
    finally:
        await admin.close()
