"""The benches run in-process through ``main([...])`` on the suite's real Kafka and Postgres.

Each bench starts its own worker and emulator (``frugalflow.bench.runner.bench_stack``) on
fresh topics and a scratch schema.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def bench_env(kafka_bootstrap: str, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FRUGALFLOW_KAFKA_BOOTSTRAP_SERVERS", "FRUGALFLOW_DATABASE_URL",
                 "FRUGALFLOW_TOPIC_PREFIX", "FRUGALFLOW_APP_ID"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("DATABASE_URL", postgres_dsn)
