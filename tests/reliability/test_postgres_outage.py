"""Postgres stopped for 30 s while answers flow: the sink catches up, nothing lost or doubled.

A dedicated Postgres server (the session's one is shared by every test) is stopped with
``pg_ctl stop`` and started again on the same data directory and port 30 s later. Requests
keep arriving the whole time: answers must not wait for the database, and every cost event
must reach it exactly once when it is back.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from frugalflow.infra.postgres import LocalPostgres
from tests.integration.harness import Deployment, request
from tests.reliability.support import answers_for

OUTAGE_S = 30.0


async def test_sink_catches_up_after_a_30_second_postgres_outage(
    kafka_bootstrap: str, emulator_url: str, isolated_prefix: str, tmp_path: Path
) -> None:
    pg = LocalPostgres(tmp_path / "pg", prefer="debian")
    dsn = await asyncio.to_thread(pg.start)
    deployment = Deployment(kafka_bootstrap, dsn, emulator_url, isolated_prefix, tmp_path)
    run = isolated_prefix.rstrip(".")
    sent: list[str] = []

    async def publish(label: str, n: int) -> None:
        ids = [f"{run}-{label}{i}" for i in range(n)]
        await deployment.publish([request(r, f"tenant{i % 3}") for i, r in enumerate(ids)])
        sent.extend(ids)

    try:
        deployment.start_worker()
        await publish("before", 10)
        assert len(await deployment.wait_cost_rows(f"{run}-%", 10)) == 10

        await asyncio.to_thread(pg.stop)
        outage_ends = time.monotonic() + OUTAGE_S
        wave = 0
        while time.monotonic() < outage_ends:  # traffic through the whole outage
            await publish(f"down{wave}-", 4)
            wave += 1
            await asyncio.sleep(5)
        answered = {a["request_id"] for a in await answers_for(deployment, set(sent), 60)}
        assert answered == set(sent), "answers waited for the database"
        metrics = deployment.metrics()
        assert metrics["frugalflow_sink_failures_total"] >= 1
        assert metrics["frugalflow_cost_events_stored_total"] == 10
        assert deployment.workers[0].running

        pg = LocalPostgres(tmp_path / "pg", prefer="debian", port=pg.port)  # same cluster
        await asyncio.to_thread(pg.start)
        await publish("after", 5)
        rows = await deployment.wait_cost_rows(f"{run}-%", len(sent), timeout=90)
        assert sorted(r["request_id"] for r in rows) == sorted(sent)  # none lost, none twice
        assert deployment.metrics()["frugalflow_cost_events_stored_total"] == len(sent)
        assert deployment.workers[0].running
    finally:
        deployment.stop_all()
        await asyncio.to_thread(pg.stop)
