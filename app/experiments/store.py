"""SQL over ``experiments`` and ``outcomes`` (tables of migration 0002).

Functions take an asyncpg connection or pool (the sink's ``CostStore.pool`` in the
worker, the admin API's pool in the API), like the report layer.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence

import asyncpg

from frugalflow.experiments.models import Experiment, ExperimentIn, FeedbackEvent, Status
from frugalflow.reports.rollups import Conn

_COLUMNS = "id, name, tenant_id, variants, status, created_at"

_INSERT_OUTCOMES = """
INSERT INTO outcomes (event_id, experiment_id, variant, user_id, kind, value, occurred_at)
SELECT u.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                       $6::numeric[], $7::timestamptz[])
     AS u(event_id, experiment_id, variant, user_id, kind, value, occurred_at)
JOIN experiments e ON e.id = u.experiment_id  -- an experiment deleted meanwhile: dropped
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""


class ExperimentExists(Exception):
    """Another experiment of the tenant has this name."""


def _experiment(record: asyncpg.Record) -> Experiment:
    return Experiment(
        id=record["id"],
        name=record["name"],
        tenant=record["tenant_id"],
        variants=json.loads(record["variants"]),
        status=record["status"],
        created_at=record["created_at"],
    )


async def create(conn: Conn, body: ExperimentIn) -> Experiment:
    variants = json.dumps([v.model_dump(exclude_none=True) for v in body.variants])
    try:
        record = await conn.fetchrow(
            f"INSERT INTO experiments (id, name, tenant_id, variants, status)"
            f" VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING {_COLUMNS}",
            f"exp_{uuid.uuid4().hex[:20]}", body.name, body.tenant, variants, body.status,
        )  # fmt: skip
    except asyncpg.UniqueViolationError:
        raise ExperimentExists(f"tenant {body.tenant!r} has an experiment {body.name!r}") from None
    assert record is not None
    return _experiment(record)


async def get(conn: Conn, experiment_id: str) -> Experiment | None:
    record = await conn.fetchrow(f"SELECT {_COLUMNS} FROM experiments WHERE id = $1", experiment_id)
    return None if record is None else _experiment(record)


async def list_all(
    conn: Conn, tenant: str | None = None, status: Status | None = None
) -> list[Experiment]:
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM experiments"
        " WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR status = $2)"
        " ORDER BY created_at, id",
        tenant, status,
    )  # fmt: skip
    return [_experiment(r) for r in records]


async def set_status(conn: Conn, experiment_id: str, status: Status) -> Experiment | None:
    record = await conn.fetchrow(
        f"UPDATE experiments SET status = $2 WHERE id = $1 RETURNING {_COLUMNS}",
        experiment_id, status,
    )  # fmt: skip
    return None if record is None else _experiment(record)


async def outcome_counts(
    conn: Conn, experiment_id: str
) -> tuple[dict[str, dict[str, int]], dict[str, list[float]]]:
    """variant → kind → events, and variant → satisfaction scores."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for r in await conn.fetch(
        "SELECT variant, kind, count(*) AS n FROM outcomes WHERE experiment_id = $1"
        " GROUP BY variant, kind",
        experiment_id,
    ):
        counts[r["variant"]][r["kind"]] = int(r["n"])
    scores: dict[str, list[float]] = defaultdict(list)
    for r in await conn.fetch(
        "SELECT variant, value FROM outcomes WHERE experiment_id = $1 AND kind = 'satisfaction'",
        experiment_id,
    ):
        scores[r["variant"]].append(float(r["value"]))
    return counts, scores


async def variants_of(conn: Conn, experiment_ids: Sequence[str]) -> dict[str, tuple[str, set[str]]]:
    """experiment id → (tenant, variant names), for the ids that exist."""
    records = await conn.fetch(
        "SELECT id, tenant_id, variants FROM experiments WHERE id = ANY($1::text[])",
        list(experiment_ids),
    )
    return {
        r["id"]: (r["tenant_id"], {v["name"] for v in json.loads(r["variants"])}) for r in records
    }


async def insert_outcomes(conn: Conn, events: Sequence[FeedbackEvent]) -> set[str]:
    """Insert idempotently; returns the event ids that were new."""
    if not events:
        return set()
    rows = await conn.fetch(
        _INSERT_OUTCOMES,
        [e.event_id for e in events],
        [e.experiment_id for e in events],
        [e.variant for e in events],
        [e.user_id for e in events],
        [e.kind for e in events],
        [e.value for e in events],
        [e.occurred_at for e in events],
    )
    return {r["event_id"] for r in rows}
