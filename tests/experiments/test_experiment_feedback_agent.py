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

from app.experiments import ExperimentIn, Variant, store
from app.sink.store import CostStore
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
