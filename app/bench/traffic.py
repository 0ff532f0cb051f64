"""Publish requests as an upstream service would and time their answers as a client sees them.

``AnswerWatch`` reads a topic from its current end (every partition assigned, no consumer
group) and records, per expected ``request_id``, the monotonic time its first answer
arrived. Publishing starts only after the watch is positioned, so "first publish → last
answer" is measured by one clock in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to publish: the tenant key and the JSON request."""

    request_id: str
    key: bytes
    value: bytes

    @classmethod
    def request(cls, payload: dict[str, Any]) -> Outgoing:
        return cls(
            str(payload["request_id"]),
            str(payload["tenant_id"]).encode(),
            json.dumps(payload).encode(),
        )


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # time.monotonic() when the consumer got it
    payload: dict[str, Any]


class AnswerWatch:
    def __init__(self, bootstrap: str, topic: str, expected: Iterable[str]) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.expected = set(expected)
        self.arrivals: dict[str, Arrival] = {}
        self._all = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    def expect(self, request_ids: Iterable[str]) -> None:
        self.expected.update(request_ids)
        self._all.clear()

    async def start(self) -> AnswerWatch:
        partitions = await topic_partitions(self.bootstrap, self.topic)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", fetch_max_wait_ms=50,
        )  # fmt: skip
        await consumer.start()
        self._consumer = consumer
        try:
            assigned = [TopicPartition(self.topic, p) for p in partitions]
            consumer.assign(assigned)
            await consumer.seek_to_end(*assigned)
            for tp in assigned:
                await consumer.position(tp)  # resolve the end now, not at the first fetch
        except BaseException:
            await consumer.stop()
            raise
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            now = time.monotonic()
            for messages in batches.values():
                for message in messages:
                    self._take(now, message.value)

    def _take(self, now: float, value: bytes | None) -> None:
        if value is None:
            return
        try:
            payload = json.loads(value)
        except ValueError:
            return
        request_id = payload.get("request_id") if isinstance(payload, dict) else None
        if request_id in self.expected and request_id not in self.arrivals:
            self.arrivals[request_id] = Arrival(now, payload)
            if len(self.arrivals) >= len(self.expected):
                self._all.set()

    async def wait(self, timeout_s: float) -> bool:
        """True when every expected answer arrived within ``timeout_s``."""
        if len(self.arrivals) >= len(self.expected):
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all.wait(), timeout_s)
        return len(self.arrivals) >= len(self.expected)

    def last_arrival(self) -> float | None:
        return max((a.at for a in self.arrivals.values()), default=None)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


async def topic_partitions(bootstrap: str, topic: str) -> list[int]:
    """The partition ids of an existing topic (``RuntimeError`` when it does not exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = sorted(
        p["partition"] for t in described if t["topic"] == topic and not t["error_code"]
        for p in t["partitions"]
    )  # fmt: skip
    if not partitions:
        raise RuntimeError(f"topic {topic} does not exist")
    return partitions


def new_producer(bootstrap: str, *, linger_ms: int = 5) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=linger_ms, max_request_size=4 * 1024 * 1024
    )


async def publish_all(producer: AIOKafkaProducer, topic: str, records: list[Outgoing]) -> float:
    """Send every record (batched by the producer) and wait until all are acknowledged.

    Returns the monotonic time of the first send."""
    started = time.monotonic()
    futures = [await producer.send(topic, key=r.key, value=r.value) for r in records]
    await asyncio.gather(*futures)
    return started
