"""Postgres writes of the activity sink: alerts, rejections and batch slices.

Each write is one idempotent statement per batch of records: alerts and rejections are
inserted once (``ON CONFLICT DO NOTHING`` on a stable key); a batch slice is upserted
and only a record at least as new as the stored one replaces it. A ``done`` record
carries no requests, so it keeps the size (and tenants) the slice was submitted with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

from frugalflow.events import Alert, ResponseEvent


class _Tenant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: str


class _Member(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    request: _Tenant


class BatchSlice(BaseModel):
    """What the console needs of an ``llm.batches`` record (``frugalflow.events.BatchRecord``):
    its state and size, not the requests themselves (a record holds up to 16 MiB of them)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    batch_key: str
    partition: int
    state: Literal["submitting", "submitted", "done"]
    provider: str
    provider_batch_id: str | None = None
    requests: list[_Member] = []
    submitted_at: datetime | None = None
    updated_at: datetime

    @property
    def record_key(self) -> str:
        return f"{self.batch_key}:{self.partition}"


_ALERTS = """
INSERT INTO alerts (alert_id, tenant_id, kind, period, spent_usd, limit_usd, threshold,
                    service, use_case, detail, occurred_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[],
                     $6::numeric[], $7::numeric[], $8::text[], $9::text[], $10::text[],
                     $11::timestamptz[])
ON CONFLICT (alert_id) DO NOTHING
"""

_REJECTIONS = """
INSERT INTO rejections (request_id, tenant_id, code, message, model)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
ON CONFLICT (tenant_id, request_id) DO NOTHING
"""

_BATCH = """
INSERT INTO batches AS b (record_key, batch_key, partition, provider, provider_batch_id,
                          state, requests, tenants, submitted_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (record_key) DO UPDATE SET
    provider_batch_id = COALESCE(EXCLUDED.provider_batch_id, b.provider_batch_id),
    state = EXCLUDED.state,
    requests = CASE WHEN EXCLUDED.requests = 0 THEN b.requests ELSE EXCLUDED.requests END,
    tenants = CASE WHEN EXCLUDED.requests = 0 THEN b.tenants ELSE EXCLUDED.tenants END,
    submitted_at = COALESCE(EXCLUDED.submitted_at, b.submitted_at),
    updated_at = EXCLUDED.updated_at
WHERE EXCLUDED.updated_at >= b.updated_at
"""


def alert_id(alert: Alert) -> str:
    """The alert's stable id (``Alert.identity``), the one its deliveries are kept under
    (``alert_deliveries``), so the console shows each alert with its delivery state."""
    return alert.identity()


async def insert_alerts(pool: asyncpg.Pool, alerts: Sequence[Alert]) -> None:
    if not alerts:
        return
    rows = [
        (alert_id(a), a.tenant_id, a.kind, a.period, a.spent_usd, a.limit_usd, a.threshold,
         a.service, a.use_case, a.detail, a.occurred_at)
        for a in alerts
    ]  # fmt: skip
    await pool.execute(_ALERTS, *(list(column) for column in zip(*rows, strict=True)))


async def insert_rejections(pool: asyncpg.Pool, answers: Sequence[ResponseEvent]) -> None:
    rows = [
        (a.request_id, a.tenant_id, a.error.code if a.error else "rejected",
         a.error.message if a.error else "", a.model)
        for a in answers
    ]  # fmt: skip
    if rows:
        await pool.execute(_REJECTIONS, *(list(column) for column in zip(*rows, strict=True)))


async def upsert_batches(pool: asyncpg.Pool, records: Sequence[BatchSlice]) -> None:
    rows = [
        (r.record_key, r.batch_key, r.partition, r.provider, r.provider_batch_id, r.state,
         len(r.requests), sorted({a.request.tenant_id for a in r.requests}), r.submitted_at,
         r.updated_at)
        for r in records
    ]  # fmt: skip
    if rows:
        await pool.executemany(_BATCH, rows)
