"""What the console shows beside the costs: alerts, rejections and provider batches.

Read from the tables the activity sink keeps (``app/sink/activity.py``). Date ranges are
inclusive UTC days, as every report's; lists are newest first and capped by ``limit``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from frugalflow.events import Money
from frugalflow.reports.periods import utc_bounds
from frugalflow.reports.rollups import Conn

BatchState = Literal["submitting", "submitted", "done"]
BatchFilter = Literal["pending", "done", "all"]
PENDING: tuple[BatchState, ...] = ("submitting", "submitted")


class AlertDeliveryState(BaseModel):
    """Where one channel's delivery of an alert stands (app/alerts: the notifier)."""

    model_config = ConfigDict(frozen=True)

    channel: str
    state: str  # pending | delivered | failed
    attempts: int
    last_error: str | None
    updated_at: datetime


class AlertRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    alert_id: str
    tenant_id: str
    kind: str
    period: str
    spent_usd: Money
    limit_usd: Money
    threshold: Money | None
    service: str | None
    use_case: str | None
    detail: str | None
    occurred_at: datetime
    # Per channel, by name; empty when no channel was named for the tenant (or not yet).
    deliveries: list[AlertDeliveryState]


class RejectionCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    count: int


class RejectionRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: str
    tenant_id: str
    code: str
    message: str
    model: str | None
    occurred_at: datetime


class Rejections(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: date
    end: date
    tenant: str | None
    total: int
    by_code: list[RejectionCount]  # most frequent first
    recent: list[RejectionRow]  # newest first


class BatchRow(BaseModel):
    # ``llm.batches`` carries a slice as ``submitting`` (sent by the batcher) and then
    # ``done`` (sent by the poller, with the provider's batch id and submission time); the
    # ledger keeps ``submitted`` in its own table only. So pending rows are ``submitting``
    # with no provider batch id, whatever the provider has done with them so far.
    model_config = ConfigDict(frozen=True)

    record_key: str
    batch_key: str
    partition: int
    provider: str
    provider_batch_id: str | None
    state: BatchState
    requests: int
    tenants: list[str]
    submitted_at: datetime | None
    updated_at: datetime
    age_s: int  # since submission (or the first record when not yet submitted)


async def alerts(
    conn: Conn, start: date, end: date, tenant: str | None = None, limit: int = 100
) -> list[AlertRow]:
    low, high = utc_bounds(start, end)
    rows = await conn.fetch(
        "SELECT a.*, COALESCE((SELECT json_agg(json_build_object("
        " 'channel', d.channel, 'state', d.state, 'attempts', d.attempts,"
        " 'last_error', d.last_error, 'updated_at', d.updated_at) ORDER BY d.channel)"
        " FROM alert_deliveries d WHERE d.alert_id = a.alert_id), '[]') AS deliveries"
        " FROM alerts a WHERE a.occurred_at >= $1 AND a.occurred_at < $2"
        " AND ($3::text IS NULL OR a.tenant_id = $3) ORDER BY a.occurred_at DESC, a.alert_id"
        " LIMIT $4",
        low, high, tenant, limit,
    )  # fmt: skip
    return [
        AlertRow.model_validate({**dict(r), "deliveries": json.loads(r["deliveries"])})
        for r in rows
    ]


async def rejections(
    conn: Conn, start: date, end: date, tenant: str | None = None, limit: int = 100
) -> Rejections:
    low, high = utc_bounds(start, end)
    where = "WHERE occurred_at >= $1 AND occurred_at < $2 AND ($3::text IS NULL OR tenant_id = $3)"
    counts = await conn.fetch(
        f"SELECT code, count(*) AS count FROM rejections {where}"
        " GROUP BY code ORDER BY count DESC, code",
        low, high, tenant,
    )  # fmt: skip
    recent = await conn.fetch(
        f"SELECT * FROM rejections {where} ORDER BY occurred_at DESC, request_id LIMIT $4",
        low, high, tenant, limit,
    )  # fmt: skip
    by_code = [RejectionCount(code=r["code"], count=r["count"]) for r in counts]
    return Rejections(
        start=start,
        end=end,
        tenant=tenant,
        total=sum(c.count for c in by_code),
        by_code=by_code,
        recent=[RejectionRow.model_validate(dict(r)) for r in recent],
    )


async def batches(
    conn: Conn, state: BatchFilter = "all", tenant: str | None = None, limit: int = 100
) -> list[BatchRow]:
    """Pending slices first (oldest first: the ones to worry about), then the most recent."""
    states = {"pending": list(PENDING), "done": ["done"], "all": [*PENDING, "done"]}[state]
    rows = await conn.fetch(
        "SELECT * FROM batches WHERE state = ANY($1::text[])"
        " AND ($2::text IS NULL OR $2 = ANY(tenants))"
        " ORDER BY state = 'done', CASE WHEN state = 'done' THEN -extract(epoch FROM updated_at)"
        " ELSE extract(epoch FROM COALESCE(submitted_at, updated_at)) END, record_key LIMIT $3",
        states, tenant, limit,
    )  # fmt: skip
    now = datetime.now(UTC)
    return [
        BatchRow(
            **{k: v for k, v in dict(r).items() if k in BatchRow.model_fields},
            age_s=max(0, int((now - (r["submitted_at"] or r["updated_at"])).total_seconds())),
        )
        for r in rows
    ]
