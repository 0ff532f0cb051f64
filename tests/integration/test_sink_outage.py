"""Postgres goes away: the sink backs off without acking, loses nothing, and catches up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from frugalflow.infra.postgres import LocalPostgres
from tests.integration.harness import Deployment, request


async def test_sink_survives_a_postgres_outage(
    kafka_bootstrap: str, emulator_url: str, isolated_prefix: str, tmp_path: Path
) -> None:
    pg = LocalPostgres(tmp_path / "pg", prefer="debian")
    dsn = await asyncio.to_thread(pg.start)
    deployment = Deployment(kafka_bootstrap, dsn, emulator_url, isolated_prefix, tmp_path)
    run = isolated_prefix.rstrip(".")
    try:
        deployment.start_worker()
        await deployment.publish([request(f"{run}-a{i}", "acme") for i in range(10)])
        assert len(await deployment.wait_cost_rows(f"{run}-a%", 10)) == 10

        await asyncio.to_thread(pg.stop)
        await deployment.publish([request(f"{run}-b{i}", "acme") for i in range(15)])
        answers = await deployment.read("llm.responses", until=25, timeout=60)
        assert {a["request_id"] for a in answers} >= {f"{run}-b{i}" for i in range(15)}
        await asyncio.sleep(2)  # let the sink fail and back off at least once
        assert deployment.metrics()["frugalflow_sink_failures_total"] >= 1
        assert deployment.workers[0].running

        pg = LocalPostgres(tmp_path / "pg", prefer="debian", port=pg.port)  # same cluster
        await asyncio.to_thread(pg.start)
        rows = await deployment.wait_cost_rows(f"{run}-%", 25, timeout=60)
        assert len(rows) == 25  # nothing lost, nothing doubled
        assert deployment.metrics()["frugalflow_cost_events_stored_total"] == 25
    finally:
        deployment.stop_all()
        await asyncio.to_thread(pg.stop)
