"""Records handed to Faust's producer without Faust's per-record send layers.

``Topic.send`` and a table's changelog both wrap each record in a ``PendingMessage`` and a
``FutureMessage``, look up its serializers again, and on sending chain a callback that
resolves the ``FutureMessage`` and calls the table back (which, with the memory store this
worker uses, records nothing). Measured with ``bench throughput --faust-floor``, a table
write cost about twice a raw send (README, Performance).

* :func:`send_raw`: the pipeline's outputs (answers, cost events, alerts…), already bytes.
* :class:`LeanTable`: the worker's tables (``faust.App(Table=LeanTable)``). A table write is
  synchronous, so its changelog record is still queued in the producer's buffer and sent
  by the buffer's task, in order with every other queued record; but as a plain
  :class:`ChangelogRecord` (topic, key and value bytes, partition), serialized by the
  changelog topic's own codecs as Faust does. The buffer
  (``frugalflow.faust_producer``) hands it over with :func:`send_raw`, and a flush, which
  Faust runs before every offset commit, returns only once it is handed over.

Faust's sensors still count every send, and a failed send is logged and counted as an
error, as Faust's own path does.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

import faust
from faust.types import AppT

logger = logging.getLogger(__name__)


async def send_raw(
    app: AppT, topic: str, key: bytes | None, value: bytes | None,
    partition: int | None = None,
) -> None:  # fmt: skip
    """Hand one record to the app's producer, as ``Topic.send`` does for raw bytes.

    The same: the record is appended when this returns, the producer's partitioner places
    it (unless ``partition`` is given), Faust flushes this producer before it commits
    offsets, and its sensors count the send.
    """
    producer = await app.maybe_start_producer()
    sensors = app.sensors
    state = sensors.on_send_initiated(producer, topic, None, len(key or b""), len(value or b""))  # type: ignore[arg-type]
    sent = await producer.send(topic, key, value, partition, None, None)
    sent.add_done_callback(partial(_count_sent, sensors, producer, topic, state))  # type: ignore[attr-defined]


def _count_sent(sensors: Any, producer: Any, topic: str, state: Any, sent: Any) -> None:
    if sent.cancelled():
        return
    if (exc := sent.exception()) is not None:
        sensors.on_send_error(producer, exc, state)
        logger.error("sending a record to %s failed: %r", topic, exc)
        return
    sensors.on_send_completed(producer, state, sent.result())


class ChangelogRecord:
    """One table change, serialized, waiting in the producer's buffer."""

    __slots__ = ("handed", "key", "partition", "topic", "value")

    def __init__(self, topic: str, key: bytes | None, value: bytes | None, partition: int) -> None:
        self.topic, self.key, self.value, self.partition = topic, key, value, partition
        # Made only when a flush waits for this record: resolved once it is handed over.
        self.handed: asyncio.Future[None] | None = None

    def handed_over(self) -> asyncio.Future[None]:
        if self.handed is None:
            self.handed = asyncio.get_running_loop().create_future()
        return self.handed

    async def send(self, app: AppT) -> None:
        await send_raw(app, self.topic, self.key, self.value, self.partition)
        if self.handed is not None and not self.handed.done():
            self.handed.set_result(None)


class LeanTable(faust.Table):  # type: ignore[type-arg]
    """Faust's ``Table`` whose changelog records are :class:`ChangelogRecord` s."""

    def on_key_set(self, key: Any, value: Any) -> None:
        partition = self._changelog(self.partition_for_key(key), key, value, None)
        self._maybe_set_key_ttl(key, partition)
        self._sensor_on_set(self, key, value)

    def on_key_del(self, key: Any) -> None:
        partition = self._changelog(self.partition_for_key(key), key, None, "raw")
        self._maybe_del_key_ttl(key, partition)
        self._sensor_on_del(self, key)

    def _changelog(
        self, partition: int | None, key: Any, value: Any, value_serializer: str | None
    ) -> int:
        """Queue the change as Faust's ``send_changelog`` would; its partition."""
        if self.app.conf.producer_threaded:  # that producer's thread takes Faust's own records
            fut = self.send_changelog(partition, key, value, value_serializer=value_serializer)
            assert fut.message.partition is not None  # eager partitioning, as Faust asserts
            return fut.message.partition
        topic = self.changelog_topic
        final_key, _ = topic.prepare_key(key, self.key_serializer)
        final_value, _ = topic.prepare_value(value, value_serializer or self.value_serializer)
        name = topic.get_topic_name()
        if partition is None:
            partition = self.app.producer.key_partition(name, final_key).partition
        self.app.producer.buffer.put(ChangelogRecord(name, final_key, final_value, partition))  # type: ignore[arg-type]
        return partition
