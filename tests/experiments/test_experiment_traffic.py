"""A running experiment applied to live traffic on a real worker (Kafka, Postgres, emulator)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import asyncpg
import pytest

from frugalflow.experiments import ExperimentIn, Variant, assign, store
from frugalflow.experiments.live import EXPERIMENT_KEY
from frugalflow.sink.store import CostStore
from tests.integration.harness import Deployment, request

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

REFRESH_S = 1.0


async def impressions(dsn: str, experiment_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            "SELECT event_id, variant, user_id FROM outcomes"
            " WHERE experiment_id = $1 AND kind = 'impression'",
            experiment_id,
        )
    finally:
        await conn.close()


async def test_running_experiment_splits_live_traffic(deployment: Deployment) -> None:
    run, tenant = deployment.prefix.rstrip("."), f"t-{uuid.uuid4().hex[:6]}"
    variants = [
        Variant(name="haiku", weight=1, model="claude-haiku-4-5"),
        Variant(name="sonnet", weight=1, model="claude-sonnet-4-6", prompt="Answer tersely."),
    ]
    s = CostStore(deployment.dsn)
    await s.start()
    try:
        experiment = await store.create(
            s.pool,
            ExperimentIn(name="model-ab", tenant=tenant, variants=variants, status="running"),
        )
    finally:
        await s.close()
    deployment.extra_env["FRUGALFLOW_EXPERIMENT_REFRESH_S"] = str(REFRESH_S)
    deployment.start_worker()
    # Publish only once the worker applies the experiment (it loads it on its timer).
    deadline = time.monotonic() + 30
    while deployment.metrics().get("frugalflow_experiments_running", 0) < 1:
        assert time.monotonic() < deadline, "the worker never loaded the running experiment"
        await asyncio.sleep(0.2)

    n = 40
    users = {f"{run}-{i}": f"user-{i}" for i in range(n)}
    records: list[tuple[bytes | None, bytes]] = [
        request(rid, tenant, model="gpt-4o-mini", user_id=user, metadata={"i": i})
        for i, (rid, user) in enumerate(users.items())
    ]
    records.append(request(f"{run}-anon", tenant, model="gpt-4o-mini"))  # no user: no experiment
    await deployment.publish(records)

    answers = await deployment.read("llm.responses", until=n + 1, timeout=120)
    ids = Counter(a["request_id"] for a in answers)
    assert set(ids) == {*users, f"{run}-anon"} and max(ids.values()) == 1
    by_id = {a["request_id"]: a for a in answers}
    models = {v.name: v.model for v in variants}
    split: Counter[str] = Counter()
    for i, (rid, user) in enumerate(users.items()):
        answer = by_id[rid]
        expected = assign(experiment.id, user, variants).name
        assert answer["status"] == "ok"
        assert answer["metadata"] == {
            "i": i,
            EXPERIMENT_KEY: {"id": experiment.id, "variant": expected},
        }
        assert answer["provider"] == "anthropic" and answer["model"] == models[expected]
        split[expected] += 1
    assert set(split) == {"haiku", "sonnet"}  # 40 users: both variants are served
    anon = by_id[f"{run}-anon"]
    assert EXPERIMENT_KEY not in anon["metadata"] and anon["model"] == "gpt-4o-mini"

    deadline = time.monotonic() + 60
    rows = await impressions(deployment.dsn, experiment.id)
    while len(rows) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        rows = await impressions(deployment.dsn, experiment.id)
    await asyncio.sleep(2)  # a doubled impression would show up here
    rows = await impressions(deployment.dsn, experiment.id)
    assert len(rows) == n
    assert {r["user_id"]: r["variant"] for r in rows} == {
        user: assign(experiment.id, user, variants).name for user in users.values()
    }
    assert Counter(r["variant"] for r in rows) == split
