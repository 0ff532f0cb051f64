"""Real Apache Kafka (KRaft) broker from the official jars: start, persist, restart, crash."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from frugalflow.infra.apache_kafka import ApacheKafkaBroker
from frugalflow.infra.kafka_jar_cache import KafkaHarnessError, resolve_jars

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.skipif(
        shutil.which("java") is None, reason="needs a Java 17+ runtime on PATH to run Kafka"
    ),
]


async def _create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        # KRaft acknowledges CreateTopics before the broker's metadata cache has the
        # topic, so the first listing may come back empty on a loaded machine.
        deadline = time.monotonic() + 15
        while topic not in await admin.list_topics():
            assert time.monotonic() < deadline, f"topic {topic!r} never appeared"
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _read_all(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[bytes]:
    # No group: read the partition from the beginning, exactly what was persisted.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                values.extend(r.value for r in records if r.value is not None)
    finally:
        await consumer.stop()
    return values


def _cluster_id(broker: ApacheKafkaBroker) -> str:
    for line in (broker.data_dir / "logs" / "meta.properties").read_text().splitlines():
        if line.startswith("cluster.id="):
            return line.split("=", 1)[1]
    raise AssertionError("meta.properties has no cluster.id")


async def test_messages_survive_graceful_restart(tmp_path: Path) -> None:
    broker = ApacheKafkaBroker(tmp_path / "kafka")
    topic = "persisted"
    messages = [f"msg-{i}".encode() for i in range(10)]
    try:
        # start() blocks; run it off the shared event loop.
        await asyncio.to_thread(broker.start)
        assert broker.is_running
        print(f"\nKafka first start (format + boot): {broker.last_start_seconds:.2f}s")
        bootstrap = broker.bootstrap_servers
        cluster_id = _cluster_id(broker)

        await _create_topic(bootstrap, topic)
        await _produce(bootstrap, topic, messages)

        await asyncio.to_thread(broker.stop)  # SIGTERM: clean shutdown
        assert not broker.is_running

        await asyncio.to_thread(broker.start)
        print(f"Kafka restart (no format): {broker.last_start_seconds:.2f}s")
        # Same address and same formatted log dir: the restart did not re-format.
        assert broker.bootstrap_servers == bootstrap
        assert _cluster_id(broker) == cluster_id

        assert await _read_all(bootstrap, topic, expected=10) == messages
    finally:
        broker.stop()
    assert not broker.is_running


async def test_messages_survive_sigkill(tmp_path: Path) -> None:
    broker = ApacheKafkaBroker(tmp_path / "kafka")
    messages = [f"crash-{i}".encode() for i in range(5)]
    try:
        await asyncio.to_thread(broker.start)
        await _create_topic(broker.bootstrap_servers, "crashy")
        await _produce(broker.bootstrap_servers, "crashy", messages)

        broker.kill()  # no shutdown hooks: the next start runs log recovery
        assert not broker.is_running

        await asyncio.to_thread(broker.start)
        assert await _read_all(broker.bootstrap_servers, "crashy", expected=5) == messages
    finally:
        broker.stop()


def test_start_failure_reports_broker_log(tmp_path: Path) -> None:
    # Someone else holds the broker port: Kafka exits and we surface *why*.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = ApacheKafkaBroker(tmp_path / "kafka", port=port)
        with pytest.raises(KafkaHarnessError, match="Address already in use"):
            broker.start(timeout=60)
    assert not broker.is_running


def test_second_resolve_is_a_cache_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    libs = resolve_jars()
    marker = libs.parent / "resolved.json"
    marker_mtime = marker.stat().st_mtime_ns
    libs_mtime = libs.stat().st_mtime_ns

    # Without mvn on PATH, any attempt to run Maven would raise KafkaHarnessError.
    monkeypatch.setenv("PATH", "")
    started = time.perf_counter()
    assert resolve_jars() == libs
    elapsed = time.perf_counter() - started

    assert marker.stat().st_mtime_ns == marker_mtime
    assert libs.stat().st_mtime_ns == libs_mtime
    assert elapsed < 1.0
    assert any(p.name.startswith("kafka_2.13-") for p in libs.glob("*.jar"))


def test_cluster_ids_never_start_with_a_dash() -> None:
    from frugalflow.infra.apache_kafka import _new_cluster_id

    draws = iter([b"\xfb" + bytes(15), b"\x00" * 16])  # "-w..." first, then "AAAA..."
    assert _new_cluster_id(lambda: next(draws)) == "A" * 22
