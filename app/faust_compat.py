"""Fixes for faust-streaming 0.15.x losing records around a worker's start and rebalances.

**1. Records delivered while the stream partitions are sought** (found with a record
published during start-up; the worker never answered it, never dead-lettered it, and
committed past it):

1. A rebalance pauses the stream partitions (Faust-level pause: the fetcher just does not
   ask aiokafka for them) and table recovery resumes the consumer's *flow* so that the
   changelogs can be read ("Resuming flow..." in the log).
2. ``Recovery.on_recovery_completed`` then resumes the stream partitions and *awaits*
   ``consumer.perform_seek()`` (seek to the committed offsets) while the flow is still
   active. During that await the fetcher delivers the stream partitions' first records
   into the agents' channel queues and advances its read offsets past them.
3. Right after the seek it calls ``app.flow_control.resume()``, which *clears* every
   channel queue (they are created with ``clear_on_resume=True``, meant to drop stale
   events fetched before a rebalance). Records delivered in step 2 and not yet taken
   by their agent vanish: never processed, never acked, never redelivered (aiokafka's
   position and Faust's read offset are already past them), and the acks of the later
   records commit over them.

Faust's own design is that nothing is delivered between "seek to committed" and "clear
the queues": on the other paths the flow is stopped there. The fix restores exactly that
invariant: stop the consumer's flow before Faust resumes the stream partitions and
seeks; Faust resumes the flow itself right after the seek (``consumer.resume_flow()``),
so the fetcher then delivers from the committed offsets into empty queues. Anything the
fetcher had in hand when the flow stopped is dropped by Faust's ``getmany`` and read
again from the committed offsets (it seeks back whenever it returns while the flow is
stopped). If a new rebalance interrupts this, its own recovery resumes the flow.

**2. That seek back did nothing on a partition with no committed offset** (found by
``tests/reliability/test_immediate_crashes.py`` on a busy machine: a worker started after
a kill -9 dropped the first 18 records of an ``llm.admitted`` partition its group had
never committed, answered none of them, and committed past them with the next ack).
Faust's every "seek back" is aiokafka's ``seek_to_committed()``, which seeks only where
the committed offset is above 0 (``if offset and offset > 0``). Where the group has no
committed offset yet, or committed 0, aiokafka's position stays past whatever Faust
dropped (records it took from aiokafka's buffer while its flow was stopped, or a
generation changed: ``Consumer.getmany`` breaks off and drops the rest of the batch),
so those records were never read again. :class:`SeekSafeConsumerThread` completes the
seek: offset 0 → seek to 0; none → where a fresh group starts (``earliest``: the log
start, as the worker sets ``consumer_auto_offset_reset``). Table changelogs are left to
Faust's recovery, which positions them itself. Worst case is a record read twice, which
at-least-once already allows (request ids, stable cost-event ids).

Applied by configuration, not by patching Faust: ``faust.App(..., **faust_settings(...))``
makes the app build :class:`StartupSafeTableManager`, whose recovery service is
:class:`StartupSafeRecovery`, and names broker URLs whose transport is
:class:`SeekSafeTransport` (``kafka-seeksafe://``; Tansu's transport is one too). Checked
on faust-streaming 0.15.3 with aiokafka 0.14.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import aiokafka
from aiokafka import TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from frugalflow.faust_producer import OneWaitProducer

#: The scheme of the broker URLs the worker is configured with (Faust's own transport).
KAFKA_SCHEME = "kafka"
#: The broker URL scheme that selects :class:`SeekSafeTransport` for Apache Kafka.
SEEK_SAFE_SCHEME = "kafka-seeksafe"


class StartupSafeRecovery(Recovery):
    """Table recovery that never lets the stream partitions deliver before their seek."""

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        # Faust resumes the flow after its seek to the committed offsets.
        self.app.consumer.stop_flow()
        await super().on_recovery_completed(generation_id)

    async def _resume_streams(self, generation_id: int = 0) -> None:
        # The path taken when an app has no tables: same order, same fix.
        self.app.consumer.stop_flow()
        await super()._resume_streams(generation_id)


class StartupSafeTableManager(TableManager):
    """Faust's table manager with :class:`StartupSafeRecovery` as its recovery service."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = StartupSafeRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


async def seek_to_committed_or_start(
    consumer: aiokafka.AIOKafkaConsumer, auto_offset_reset: str, leave: Collection[str]
) -> dict[TopicPartition, int | None]:
    """aiokafka's ``seek_to_committed()``, completed where it seeks nothing (fix 2).

    ``leave``: topics whose partitions keep aiokafka's behaviour (the table changelogs).
    Returns the committed offsets as aiokafka does (``None``: no committed offset).
    """
    committed: dict[TopicPartition, int | None] = await consumer.seek_to_committed()
    # A rebalance may have taken partitions meanwhile: their next owner seeks them.
    assigned = consumer.assignment()
    mine = {
        tp: offset for tp, offset in committed.items() if tp.topic not in leave and tp in assigned
    }
    for tp, offset in mine.items():
        if offset == 0:
            consumer.seek(tp, 0)
    never = [tp for tp, offset in mine.items() if offset is None or offset < 0]
    # Only "earliest" has a position to go back to; the worker always sets it.
    if never and auto_offset_reset == "earliest":
        await consumer.seek_to_beginning(*never)
    return committed


class SeekSafeConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread whose seek to committed offsets is complete."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        consumer = self._ensure_consumer()
        committed = await self.call_thread(
            seek_to_committed_or_start,
            consumer,
            self.app.conf.consumer_auto_offset_reset,
            self.app.tables.changelog_topics,
        )
        # Faust types it ``Mapping[TP, int]`` but takes aiokafka's result, None included.
        return committed  # type: ignore[no-any-return]


class SeekSafeConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return SeekSafeConsumerThread(self, loop=self.loop, beacon=self.beacon)


class SeekSafeTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with :class:`SeekSafeConsumerThread` (and, for speed
    only, the producer of ``frugalflow.faust_producer``)."""

    Consumer = SeekSafeConsumer
    Producer = OneWaitProducer


def register_transport() -> None:
    """Make ``kafka-seeksafe://`` broker URLs resolve to :class:`SeekSafeTransport`."""
    drivers.TRANSPORTS.aliases.setdefault(SEEK_SAFE_SCHEME, f"{__name__}:SeekSafeTransport")


def faust_settings(brokers: Sequence[str]) -> dict[str, Any]:
    """The ``faust.App`` settings that apply these fixes, for the broker URLs ``brokers``.

    ``kafka://`` URLs become ``kafka-seeksafe://``; a URL of another scheme is kept if its
    transport already is a :class:`SeekSafeTransport` (Tansu's), else refused.
    """
    register_transport()
    return {"TableManager": StartupSafeTableManager, "broker": [_seek_safe(u) for u in brokers]}


def _seek_safe(url: str) -> str:
    scheme, separator, address = url.partition("://")
    if not separator:
        raise ValueError(f"not a broker URL (scheme://host:port): {url!r}")
    if scheme == KAFKA_SCHEME:
        return f"{SEEK_SAFE_SCHEME}://{address}"
    try:
        transport = drivers.TRANSPORTS.by_name(scheme)
    except (ImportError, AttributeError, ValueError):
        transport = None
    if not (isinstance(transport, type) and issubclass(transport, SeekSafeTransport)):
        raise ValueError(f"no seek-safe Faust transport for broker URL {url!r}")
    return url
