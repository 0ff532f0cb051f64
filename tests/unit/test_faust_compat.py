"""The worker's Faust app gets the seek-safe consumer on either broker (``app/faust_compat.py``).

Built the way a worker builds it (``build_faust_app``), never started: no broker needed.
What the seek does on a real Kafka is ``tests/integration/test_seek_to_committed.py``.
"""

from __future__ import annotations

import pytest

from frugalflow.faust_compat import SeekSafeConsumerThread, SeekSafeTransport, faust_settings
from frugalflow.kafka_compat import FETCH_MAX_WAIT_MS, TansuConsumerThread, TansuTransport
from frugalflow.pipeline import build_faust_app
from frugalflow.settings import Settings

SERVERS = "127.0.0.1:9092,broker-2:9093"


@pytest.mark.parametrize(
    ("flavor", "transport", "thread", "scheme"),
    [
        ("kafka", SeekSafeTransport, SeekSafeConsumerThread, "kafka-seeksafe"),
        ("tansu", TansuTransport, TansuConsumerThread, "tansu"),
    ],
)
async def test_the_worker_app_seeks_with_the_fix_on_either_broker(
    flavor: str, transport: type, thread: type, scheme: str
) -> None:
    app = build_faust_app(Settings(kafka_bootstrap_servers=SERVERS, broker_flavor=flavor))

    assert type(app.transport) is transport
    assert type(app.consumer._thread) is thread  # type: ignore[attr-defined]
    assert isinstance(app.consumer._thread, SeekSafeConsumerThread)  # type: ignore[attr-defined]
    assert [(u.scheme, u.host, u.port) for u in app.transport.url] == [
        (scheme, "127.0.0.1", 9092), (scheme, "broker-2", 9093),
    ]  # fmt: skip


async def test_tansu_keeps_its_short_fetch_wait_with_the_fix() -> None:
    app = build_faust_app(Settings(kafka_bootstrap_servers=SERVERS, broker_flavor="tansu"))
    consumer = app.consumer._thread._create_worker_consumer(app.transport)  # type: ignore[attr-defined]

    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memory://localhost", "no seek-safe Faust transport"),  # Faust's, not ours
        ("nosuch://localhost:9092", "no seek-safe Faust transport"),
        ("localhost:9092", "not a broker URL"),
    ],
)
def test_a_broker_url_without_the_fix_is_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        faust_settings([url])
