"""The Tansu accommodations: settings, and the transport with a short fetch wait.

The consumer is built the way a worker builds it (``faust.App`` → transport → consumer
thread → aiokafka consumer), never started: no broker is needed to see its fetch wait.
"""

from __future__ import annotations

from typing import Any

import faust
import pytest
from faust.transport.drivers import aiokafka as faust_aiokafka

from frugalflow.kafka_compat import FETCH_MAX_WAIT_MS, TansuTransport, faust_overrides

BROKERS = ["kafka://localhost:9092", "kafka://127.0.0.1:9093"]
FAUST_FETCH_MAX_WAIT_MS = 1500  # hard-coded in faust-streaming 0.15.3's aiokafka driver


def _app(config: dict[str, Any]) -> faust.App:
    return faust.App("kafka-compat-test", **{"broker": BROKERS, "store": "memory://", **config})


def _fetch_max_wait_ms(app: faust.App) -> int:
    thread = app.consumer._thread  # type: ignore[attr-defined]
    consumer = thread._create_worker_consumer(app.transport)
    wait: int = consumer._fetch_max_wait_ms
    return wait


def test_apache_kafka_gets_no_overrides() -> None:
    assert faust_overrides("kafka", BROKERS) == {}


def test_tansu_gets_its_group_and_batch_settings_and_tansu_urls() -> None:
    overrides = faust_overrides("tansu", BROKERS)

    assert overrides == {
        "broker_session_timeout": 6.0,
        "broker_heartbeat_interval": 1.0,
        "producer_max_batch_size": 1,
        "broker": ["tansu://localhost:9092", "tansu://127.0.0.1:9093"],
    }


def test_only_kafka_urls_are_rewritten() -> None:
    with pytest.raises(ValueError, match="not a kafka:// broker URL"):
        faust_overrides("tansu", ["ssl://localhost:9092"])


async def test_a_tansu_app_fetches_with_the_short_wait_and_kafka_keeps_fausts() -> None:
    tansu = _app(faust_overrides("tansu", BROKERS))
    kafka = _app(faust_overrides("kafka", BROKERS))

    assert isinstance(tansu.transport, TansuTransport)
    assert isinstance(tansu.producer.transport, TansuTransport)
    assert _fetch_max_wait_ms(tansu) == FETCH_MAX_WAIT_MS
    # Same bootstrap servers, only the scheme selected the transport.
    servers = [(u.host, u.port) for u in kafka.transport.url]
    assert [(u.scheme, u.host, u.port) for u in tansu.transport.url] == [
        ("tansu", host, port) for host, port in servers
    ]

    assert type(kafka.transport) is faust_aiokafka.Transport
    assert _fetch_max_wait_ms(kafka) == FAUST_FETCH_MAX_WAIT_MS


def test_the_short_wait_is_short_but_never_a_busy_loop() -> None:
    assert 0 < FETCH_MAX_WAIT_MS <= 50
