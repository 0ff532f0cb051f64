"""``frugalflow topics apply`` on a real broker: idempotent, and drift is reported."""

from __future__ import annotations

import subprocess
import sys

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from frugalflow.settings import Settings
from frugalflow.topics import EXIT_DRIFT, apply_topics, load_topics


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "frugalflow.cli", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def test_apply_creates_then_is_idempotent(kafka_bootstrap: str, isolated_prefix: str) -> None:
    specs = load_topics(Settings(topic_prefix=isolated_prefix, partitions=3))
    first = await apply_topics(kafka_bootstrap, specs)
    assert sorted(first.created) == sorted(s.full_name for s in specs)
    second = await apply_topics(kafka_bootstrap, specs)
    assert (second.created, second.drift, second.exit_code) == ([], [], 0)
    assert sorted(second.unchanged) == sorted(s.full_name for s in specs)


async def test_wrong_partition_count_is_drift_with_exit_code_3(
    kafka_bootstrap: str, isolated_prefix: str
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{isolated_prefix}llm.responses", 2, 1)])
    finally:
        await admin.close()
    result = cli(
        "topics", "apply",
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "FRUGALFLOW_TOPIC_PREFIX": isolated_prefix,
             "FRUGALFLOW_PARTITIONS": "4"},
    )  # fmt: skip
    assert result.returncode == EXIT_DRIFT, result.stderr
    assert f"DRIFT     {isolated_prefix}llm.responses: has 2 partitions" in result.stdout
    assert f"created   {isolated_prefix}llm.requests" in result.stdout


def test_unreachable_broker_is_a_clear_error() -> None:
    result = cli("topics", "apply", env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    assert result.returncode == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in result.stderr
