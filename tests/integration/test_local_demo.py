"""The ``make demo`` path stays green: Tansu broker, emulator, a worker, the report."""

from __future__ import annotations

import os
import subprocess
import sys

from app.infra.process import can_bind


def test_demo_answers_everything_on_tansu(postgres_dsn: str) -> None:
    assert can_bind("127.0.0.1", 9092), "the demo needs localhost:9092 free for Tansu"
    env = {k: v for k, v in os.environ.items() if "KAFKA_BOOTSTRAP_SERVERS" not in k}
    env["DATABASE_URL"] = postgres_dsn  # reuse the suite's Postgres; the broker is Tansu
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--requests", "40", "--timeout", "120"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Kafka: Tansu" in out
    assert "total                        40 of 40 requests" in out
    assert "Dead letters: 7 of 7 malformed" in out
    assert "Cost rows in Postgres: 40 for 40 billed answers" in out
    assert "COMPLETE" in out
