"""The Kafka broker stops mid-flow and comes back on its persistent log dir: nothing lost.

A dedicated single-node Apache Kafka (``frugalflow.infra.apache_kafka``; not the session's broker,
which every other test shares) is stopped while the worker is busy answering, gracefully
(SIGTERM) or as a crash (SIGKILL), and restarted on the same data directory and port. The
worker keeps running through the outage; every request published before, during (the
upstream producer retries) and after it is answered, and costed once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from frugalflow.infra.apache_kafka import ApacheKafkaBroker
from tests.integration.harness import Deployment, request
from tests.reliability.support import answers_for, group_by_request

OUTAGE_S = 8.0


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
async def test_broker_restart_on_persistent_storage_loses_nothing(
    how: str, postgres_dsn: str, emulator_url: str, isolated_prefix: str, tmp_path: Path
) -> None:
    broker = ApacheKafkaBroker(tmp_path / "kafka")
    await asyncio.to_thread(broker.start)
    deployment = Deployment(
        broker.bootstrap_servers, postgres_dsn, emulator_url, isolated_prefix, tmp_path
    )
    run = isolated_prefix.rstrip(".")

    def wave(label: str, n: int) -> list[tuple[bytes, bytes]]:
        return [
            request(f"{run}-{label}{i}", f"tenant{i % 4}",
                    priority="batch" if i % 3 == 0 else "immediate")
            for i in range(n)
        ]  # fmt: skip

    try:
        deployment.start_worker()
        first = wave("a", 30)
        await deployment.publish(first)
        await deployment.read("llm.responses", until=5, settle=0)  # mid-flow
        await asyncio.to_thread(broker.stop if how == "sigterm" else broker.kill)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(broker.start)  # same data dir, same port
        second = wave("b", 20)
        await deployment.publish(second)

        sent = {f"{run}-a{i}" for i in range(30)} | {f"{run}-b{i}" for i in range(20)}
        by_id = group_by_request(await answers_for(deployment, sent, timeout=150))
        assert set(by_id) == sent, f"lost: {sorted(sent - set(by_id))[:5]}"
        assert all(a["status"] == "ok" for copies in by_id.values() for a in copies)
        assert deployment.workers[0].running, deployment.workers[0].tail()
        rows = await deployment.wait_cost_rows(f"{run}-%", len(sent), timeout=60)
        assert Counter(r["request_id"] for r in rows) == Counter(sent)  # each costed once
    finally:
        deployment.stop_all()
        await asyncio.to_thread(broker.stop)
