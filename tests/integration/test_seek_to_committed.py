"""The worker's seek to committed offsets, on a real Kafka (``app/faust_compat.py``, fix 2).

Faust drops records it took from aiokafka while its flow was stopped and relies on a
seek to the committed offsets to read them again. aiokafka's ``seek_to_committed()``
seeks nothing where the group committed 0 or never committed: the position stays past
the dropped records. The first test pins that aiokafka behaviour (should an upgrade fix
it, it fails and the fix can go); the second shows the worker's seek reads them again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata

from frugalflow.faust_compat import seek_to_committed_or_start

RECORDS = 5  # per partition


@pytest.fixture
async def consumer(kafka_bootstrap: str, isolated_prefix: str) -> AsyncIterator[AIOKafkaConsumer]:
    """Assigned ``stream`` 0-2 and ``changelog`` 0, every record read: committed 3 on
    ``stream`` 0, 0 on ``stream`` 1, nothing on ``stream`` 2 and ``changelog`` 0."""
    stream, changelog = f"{isolated_prefix}stream", f"{isolated_prefix}changelog"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(stream, 3, 1), NewTopic(changelog, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for topic, partitions in ((stream, 3), (changelog, 1)):
            for partition in range(partitions):
                for i in range(RECORDS):
                    await producer.send_and_wait(topic, b"%d" % i, partition=partition)
    finally:
        await producer.stop()
    c = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=f"{isolated_prefix}group",
        enable_auto_commit=False, auto_offset_reset="earliest",
    )  # fmt: skip
    await c.start()
    try:
        c.assign([TopicPartition(stream, p) for p in range(3)] + [TopicPartition(changelog, 0)])
        await c.commit({
            TopicPartition(stream, 0): OffsetAndMetadata(3, ""),
            TopicPartition(stream, 1): OffsetAndMetadata(0, ""),
        })  # fmt: skip
        await read_to_end(c)
        yield c
    finally:
        await c.stop()


async def read_to_end(c: AIOKafkaConsumer) -> dict[str, list[int]]:
    """Take every record left (Faust's drop: taken, never handled); ``tp -> offsets``."""
    taken: dict[str, list[int]] = {}
    while any([await c.position(tp) < RECORDS for tp in c.assignment()]):
        for tp, records in (await c.getmany(timeout_ms=500)).items():
            taken.setdefault(f"{tp.topic.split('.')[-1]}-{tp.partition}", []).extend(
                r.offset for r in records
            )
    return taken


async def positions(c: AIOKafkaConsumer) -> dict[str, int]:
    return {
        f"{tp.topic.split('.')[-1]}-{tp.partition}": await c.position(tp)
        for tp in sorted(c.assignment())
    }


async def test_aiokafka_seeks_back_only_where_the_committed_offset_is_above_zero(
    consumer: AIOKafkaConsumer,
) -> None:
    committed = await consumer.seek_to_committed()

    assert sorted(committed.values(), key=str) == sorted([3, 0, None, None], key=str)
    assert await positions(consumer) == {
        "changelog-0": RECORDS, "stream-0": 3, "stream-1": RECORDS, "stream-2": RECORDS,
    }  # fmt: skip


async def test_the_workers_seek_reads_again_what_was_dropped_and_leaves_changelogs(
    consumer: AIOKafkaConsumer,
) -> None:
    changelog = next(tp.topic for tp in consumer.assignment() if tp.topic.endswith("changelog"))

    committed = await seek_to_committed_or_start(consumer, "earliest", leave={changelog})

    assert len(committed) == 4
    assert await positions(consumer) == {
        "changelog-0": RECORDS, "stream-0": 3, "stream-1": 0, "stream-2": 0,
    }  # fmt: skip
    assert await read_to_end(consumer) == {
        "stream-0": [3, 4], "stream-1": list(range(RECORDS)), "stream-2": list(range(RECORDS)),
    }  # fmt: skip


async def test_without_earliest_a_never_committed_partition_keeps_its_position(
    consumer: AIOKafkaConsumer,
) -> None:
    # "latest" or "none" has no start to go back to; committed 0 still means offset 0.
    await seek_to_committed_or_start(consumer, "latest", leave=set())

    assert await positions(consumer) == {
        "changelog-0": RECORDS, "stream-0": 3, "stream-1": 0, "stream-2": RECORDS,
    }  # fmt: skip
