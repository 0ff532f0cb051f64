"""The feedback agent on a real worker: llm.feedback → outcomes, once, bad input dead-lettered."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from frugalflow.experiments import ExperimentIn, Variant, store
from frugalflow.sink.store import CostStore
from tests.integration.harness import Deployment

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


def feedback(event_id: str, experiment_id: str, tenant: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id, "experiment_id": experiment_id, "variant": "control",
        "user_id": "u1", "tenant_id": tenant, "kind": "impression", "value": 1,
        "occurred_at": datetime.now(UTC).isoformat(), **extra,
    }  # fmt: skip


async def publish(d: Deployment, records: list[tuple[bytes | None, bytes]]) -> None:
    async with AIOKafkaProducer(bootstrap_servers=d.bootstrap) as producer:
        sent = [await producer.send(d.topic("llm.feedback"), key=k, value=v) for k, v in records]
        await asyncio.gather(*sent)


async def outcome_ids(dsn: str, experiment_id: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT event_id FROM outcomes WHERE experiment_id = $1 ORDER BY event_id",
            experiment_id,
        )
        return [r["event_id"] for r in rows]
    finally:
        await conn.close()


async def test_feedback_is_stored_once_and_bad_feedback_dead_lettered(
    deployment: Deployment,
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    s = CostStore(deployment.dsn)
    await s.start()
    try:
        variants = [Variant(name="control", weight=1), Variant(name="cheap", weight=1)]
        experiment = await store.create(
            s.pool, ExperimentIn(name="e2e", tenant=tenant, variants=variants, status="running")
        )
    finally:
        await s.close()
    deployment.start_worker()

    good = [
        feedback(f"{experiment.id}-{i}", experiment.id, tenant,
                 variant="cheap" if i % 2 else "control",
                 kind="satisfaction" if i == 3 else "impression", value=4 if i == 3 else 1)
        for i in range(6)
    ]  # fmt: skip
    records: list[tuple[bytes | None, bytes]] = [
        (tenant.encode(), json.dumps(f).encode()) for f in good
    ]
    records.append((tenant.encode(), json.dumps(good[0]).encode()))  # a duplicate
    records.append((tenant.encode(), b'{"event_id": "broken"'))  # malformed
    records.append(
        (tenant.encode(), json.dumps(feedback("x-unknown", "no-such-experiment", tenant)).encode())
    )
    records.append(
        (tenant.encode(), json.dumps(feedback("x-variant", experiment.id, tenant,
                                              variant="nope")).encode())
    )  # fmt: skip
    await publish(deployment, records)

    deadline = time.monotonic() + 90
    ids = await outcome_ids(deployment.dsn, experiment.id)
    while len(ids) < len(good) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        ids = await outcome_ids(deployment.dsn, experiment.id)
    assert ids == sorted(f["event_id"] for f in good)

    letters = await deployment.read("llm.dead-letter", until=3, timeout=60)
    assert sorted(letter["reason"] for letter in letters) == ["invalid_feedback"] * 3
    assert {letter["source_topic"] for letter in letters} == {deployment.topic("llm.feedback")}
    details = " | ".join(letter["detail"] for letter in letters)
    assert "not a FeedbackEvent" in details
    assert "unknown experiment" in details and "no variant" in details
    assert any(letter["value"] == '{"event_id": "broken"' for letter in letters)

    await asyncio.sleep(2)  # redelivery or late duplicates would show up here
    assert await outcome_ids(deployment.dsn, experiment.id) == ids


def route_outcome(tenant: str, request_id: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "route_outcome", "tenant_id": tenant, "request_id": request_id,
            "model": "claude-haiku-4-5", "success": True, **extra}  # fmt: skip


async def route_rows(dsn: str, tenant: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(
            "SELECT request_id, use_case, model, tier, success FROM route_outcomes"
            " WHERE tenant_id = $1 ORDER BY request_id",
            tenant,
        )
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await conn.close()


async def test_route_outcomes_are_stored_once_and_bad_ones_dead_lettered(
    deployment: Deployment,
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    deployment.start_worker()
    key = tenant.encode()
    good = [
        route_outcome(tenant, "r1"),
        route_outcome(tenant, "r2", success=False, use_case="search"),
        route_outcome(tenant, "r3", model="claude-sonnet-4-6", event_id=f"{tenant}-r3"),
        route_outcome(tenant, "r4", model="ollama/llama3.2"),  # no tier: stored, not learned
    ]
    records: list[tuple[bytes | None, bytes]] = [(key, json.dumps(r).encode()) for r in good]
    records += [
        (key, json.dumps(good[0]).encode()),  # redelivered: same default event id
        (key, json.dumps(route_outcome(tenant, "bad-1", success="yes")).encode()),
        (key, json.dumps({k: v for k, v in route_outcome(tenant, "bad-2").items()
                          if k != "model"}).encode()),
        (b"someone-else", json.dumps(route_outcome(tenant, "bad-3")).encode()),
    ]  # fmt: skip
    await publish(deployment, records)

    deadline = time.monotonic() + 90
    rows = await route_rows(deployment.dsn, tenant)
    while len(rows) < len(good) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        rows = await route_rows(deployment.dsn, tenant)
    assert [tuple(r) for r in rows] == [
        ("r1", "", "claude-haiku-4-5", "small", True),
        ("r2", "search", "claude-haiku-4-5", "small", False),
        ("r3", "", "claude-sonnet-4-6", "medium", True),
        ("r4", "", "ollama/llama3.2", None, True),
    ]

    letters = await deployment.read("llm.dead-letter", until=3, timeout=60)
    assert [letter["reason"] for letter in letters] == ["invalid_route_outcome"] * 3
    details = " | ".join(letter["detail"] for letter in letters)
    assert "not a RouteOutcome" in details and "success" in details and "model" in details
    assert "!= tenant_id" in details

    await asyncio.sleep(2)  # redelivery or late duplicates would show up here
    assert len(await route_rows(deployment.dsn, tenant)) == len(good)
    conn = await asyncpg.connect(deployment.dsn)
    try:
        counted = await conn.fetch(
            "SELECT use_case, tier, sum(samples) AS n, sum(successes) AS ok"
            " FROM route_outcome_days WHERE tenant_id = $1 GROUP BY 1, 2 ORDER BY 1, 2",
            tenant,
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in counted] == [("", "medium", 1, 1), ("", "small", 1, 1),
                                          ("search", "small", 1, 0)]  # fmt: skip
