"""The durable record of alert deliveries: Postgres ``alert_deliveries``.

Why Postgres and not a Faust table: the admin API (and the console) must show each
alert's delivery state, which lives beside the other reports there; it survives a broker
whose storage is memory only (the local Tansu); and several workers can share the
delivery work with ``FOR UPDATE SKIP LOCKED`` whatever partitions they own.

One row per (alert id, channel), inserted ``ON CONFLICT DO NOTHING`` before any attempt:
a redelivered ``llm.alerts`` record or a restarted worker finds the row and does not
deliver again. An attempt *claims* a due row (a lease, so a crashed worker's claim
expires and another worker takes over), then records ``delivered``, a retry time, or
``failed`` with its reason. The window left is a crash after the receiver accepted and
before ``delivered`` was written: that one delivery is repeated once the lease expires
(receivers dedupe on the ``FrugalFlow-Alert-Id`` header; PagerDuty on ``dedup_key``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from frugalflow.events import Alert


@dataclass(frozen=True)
class Claimed:
    alert_id: str
    channel: str
    alert: Alert
    attempts: int  # including the one just claimed


@dataclass(frozen=True)
class Delivery:
    alert_id: str
    channel: str
    tenant_id: str
    kind: str
    alert: dict[str, Any]
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


_CLAIM = """
UPDATE alert_deliveries d
SET lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1,
    updated_at = now()
FROM (
    SELECT alert_id, channel FROM alert_deliveries
    WHERE state = 'pending' AND next_attempt_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE d.alert_id = due.alert_id AND d.channel = due.channel
RETURNING d.alert_id, d.channel, d.alert, d.attempts
"""


def _claimed(row: asyncpg.Record) -> Claimed:
    alert = Alert.model_validate_json(row["alert"])
    return Claimed(row["alert_id"], row["channel"], alert, row["attempts"])


class DeliveryStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def enqueue(
        self, alert: Alert, alert_id: str, channels: dict[str, str | None]
    ) -> list[str]:
        """A row per channel (``None``: deliverable; a text: failed at once with it).
        Returns the channels newly recorded; known ones are left exactly as they are."""
        document = alert.model_dump_json()
        names = list(channels)
        errors = [channels[n] for n in names]
        rows = await self._pool.fetch(
            """
            INSERT INTO alert_deliveries (alert_id, channel, tenant_id, kind, alert, state,
                                          last_error)
            SELECT $1, c.name, $2, $3, $4::jsonb,
                   CASE WHEN c.error IS NULL THEN 'pending' ELSE 'failed' END, c.error
            FROM unnest($5::text[], $6::text[]) AS c(name, error)
            ON CONFLICT (alert_id, channel) DO NOTHING
            RETURNING channel
            """,
            alert_id, alert.tenant_id, alert.kind, document, names, errors,
        )  # fmt: skip
        return [r["channel"] for r in rows]

    async def claim(self, limit: int, lease_s: float) -> list[Claimed]:
        rows = await self._pool.fetch(_CLAIM, limit, lease_s)
        return [_claimed(r) for r in rows]

    async def delivered(self, alert_id: str, channel: str) -> None:
        await self._pool.execute(
            "UPDATE alert_deliveries SET state = 'delivered', delivered_at = now(), "
            "lease_until = NULL, last_error = NULL, updated_at = now() "
            "WHERE alert_id = $1 AND channel = $2",
            alert_id, channel,
        )  # fmt: skip

    async def retry_later(self, alert_id: str, channel: str, reason: str, delay_s: float) -> None:
        await self._pool.execute(
            "UPDATE alert_deliveries SET last_error = $3, lease_until = NULL, updated_at = now(),"
            " next_attempt_at = now() + make_interval(secs => $4) "
            "WHERE alert_id = $1 AND channel = $2",
            alert_id, channel, reason, delay_s,
        )  # fmt: skip

    async def failed(self, alert_id: str, channel: str, reason: str) -> None:
        await self._pool.execute(
            "UPDATE alert_deliveries SET state = 'failed', last_error = $3, lease_until = NULL,"
            " updated_at = now() WHERE alert_id = $1 AND channel = $2",
            alert_id, channel, reason,
        )  # fmt: skip

    async def list(
        self, *, tenant: str | None, state: str | None, kind: str | None, limit: int
    ) -> list[Delivery]:
        """Newest first; one entry per alert and channel. ``state``: the alerts that have a
        channel in that state, with all their channels."""
        rows = await self._pool.fetch(
            """
            SELECT alert_id, channel, tenant_id, kind, alert, state, attempts, last_error,
                   CASE WHEN state = 'pending' THEN next_attempt_at END AS next_attempt_at,
                   created_at, delivered_at
            FROM alert_deliveries
            WHERE ($1::text IS NULL OR tenant_id = $1)
              AND ($2::text IS NULL OR alert_id IN (
                  SELECT alert_id FROM alert_deliveries WHERE state = $2))
              AND ($3::text IS NULL OR kind = $3)
            ORDER BY created_at DESC, alert_id, channel
            LIMIT $4
            """,
            tenant, state, kind, limit,
        )  # fmt: skip
        return [
            Delivery(**{**dict(r), "alert": json.loads(r["alert"])})  # type: ignore[arg-type]
            for r in rows
        ]
