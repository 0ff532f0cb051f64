"""Postgres access for the sink: migrations at start, idempotent batch inserts.

One insert is one statement: the raw rows (``ON CONFLICT DO NOTHING``) and, from exactly
the rows newly inserted, the daily ``cost_rollups`` (an upsert adding to the counters).
Both commit or neither does, so a redelivered event changes neither table. The same
statement answers either the new event ids (``insert``) or, for the sink's Prometheus
counters, the new rows' totals per provider, model and path (``insert_with_totals``).

Migrations are the numbered ``migrations/*.sql`` files, applied once each in order under
an advisory lock, so several workers starting together apply them exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

import asyncpg
from pydantic import SecretStr, TypeAdapter

from frugalflow.events import CostEvent, Savings
from frugalflow.sink.retry import until_done

_MIGRATION_LOCK = 0x46464C57  # "FFLW": one advisory lock id for the whole project

LEVERS = tuple(Savings.model_fields)  # each has its column savings_<lever>
TOKEN_CLASSES = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")

# One serializer call for the whole batch: the same JSON as joining each event's
# ``model_dump_json``, without a call (and a str) per event.
_BATCH = TypeAdapter(list[CostEvent])

_WRITE = """
WITH incoming AS (
    -- One JSON array of the batch's events, parsed by Postgres: binding 25 arrays
    -- cost the sink more CPU than everything else it does (README, Performance).
    -- savings_usd as jsonb: parsed once, not once per lever read from it below.
    SELECT * FROM json_to_recordset($1::json) AS e(
        event_id text, request_id text, tenant_id text, service text, use_case text,
        provider text, model text, path text, input_tokens int, output_tokens int,
        cache_write_tokens int, cache_read_tokens int, cost_usd numeric,
        baseline_cost_usd numeric, savings_usd jsonb, success bool, occurred_at timestamptz,
        route_reason text, provider_reported_cost_usd numeric, cost_mismatch bool)
), inserted AS (
    INSERT INTO cost_events (
        event_id, request_id, tenant_id, service, use_case, provider, model, path,
        input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
        cost_usd, baseline_cost_usd, savings_batch, savings_prompt_cache,
        savings_response_cache, savings_pattern, savings_routing, success, occurred_at,
        route_reason, savings_flex, provider_reported_cost_usd, cost_mismatch)
    SELECT event_id, request_id, tenant_id, service, use_case, provider, model, path,
           input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
           cost_usd, baseline_cost_usd, (savings_usd->>'batch')::numeric,
           (savings_usd->>'prompt_cache')::numeric, (savings_usd->>'response_cache')::numeric,
           (savings_usd->>'pattern')::numeric, (savings_usd->>'routing')::numeric, success,
           occurred_at, route_reason, (savings_usd->>'flex')::numeric,
           provider_reported_cost_usd, cost_mismatch
    FROM incoming
    ON CONFLICT (event_id) DO NOTHING
    RETURNING *
), rolled_up AS (
    INSERT INTO cost_rollups AS r (
        tenant_id, day, provider, model, path, service, use_case, requests, successes,
        input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd,
        baseline_cost_usd, savings_batch, savings_prompt_cache, savings_response_cache,
        savings_pattern, savings_routing, savings_flex)
    SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, COALESCE(provider, ''),
           COALESCE(model, ''), path, COALESCE(service, ''), COALESCE(use_case, ''),
           count(*), count(*) FILTER (WHERE success), sum(input_tokens), sum(output_tokens),
           sum(cache_write_tokens), sum(cache_read_tokens), sum(cost_usd),
           sum(baseline_cost_usd), sum(savings_batch), sum(savings_prompt_cache),
           sum(savings_response_cache), sum(savings_pattern), sum(savings_routing),
           sum(savings_flex)
    FROM inserted
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6, 7  -- one lock order across concurrent writers
    ON CONFLICT (tenant_id, day, provider, model, path, service, use_case) DO UPDATE SET
        requests = r.requests + EXCLUDED.requests,
        successes = r.successes + EXCLUDED.successes,
        input_tokens = r.input_tokens + EXCLUDED.input_tokens,
        output_tokens = r.output_tokens + EXCLUDED.output_tokens,
        cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens,
        cache_read_tokens = r.cache_read_tokens + EXCLUDED.cache_read_tokens,
        cost_usd = r.cost_usd + EXCLUDED.cost_usd,
        baseline_cost_usd = r.baseline_cost_usd + EXCLUDED.baseline_cost_usd,
        savings_batch = r.savings_batch + EXCLUDED.savings_batch,
        savings_prompt_cache = r.savings_prompt_cache + EXCLUDED.savings_prompt_cache,
        savings_response_cache = r.savings_response_cache + EXCLUDED.savings_response_cache,
        savings_pattern = r.savings_pattern + EXCLUDED.savings_pattern,
        savings_routing = r.savings_routing + EXCLUDED.savings_routing,
        savings_flex = r.savings_flex + EXCLUDED.savings_flex,
        updated_at = now()
)
"""
_INSERT = f"{_WRITE}SELECT event_id FROM inserted"
# What Prometheus counts of the new rows (frugalflow.sink.metrics): aggregated here, so
# the sink iterates a few rows per batch instead of every event. A counter only grows:
# the savings sums take only positive amounts (cache-write premiums stay in the rows).
_INSERT_WITH_TOTALS = f"""{_WRITE}
SELECT COALESCE(provider, '') AS provider, COALESCE(model, '') AS model, path,
       count(*) AS events, sum(cost_usd) AS cost_usd,
       sum(baseline_cost_usd) AS baseline_cost_usd,
       sum(provider_reported_cost_usd) AS provider_reported_cost_usd,
       count(*) FILTER (WHERE cost_mismatch AND provider_reported_cost_usd IS NOT NULL)
           AS cost_mismatches,
       sum(savings_batch) FILTER (WHERE savings_batch > 0) AS savings_batch,
       sum(savings_prompt_cache) FILTER (WHERE savings_prompt_cache > 0)
           AS savings_prompt_cache,
       sum(savings_response_cache) FILTER (WHERE savings_response_cache > 0)
           AS savings_response_cache,
       sum(savings_pattern) FILTER (WHERE savings_pattern > 0) AS savings_pattern,
       sum(savings_routing) FILTER (WHERE savings_routing > 0) AS savings_routing,
       sum(savings_flex) FILTER (WHERE savings_flex > 0) AS savings_flex,
       sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
       sum(cache_write_tokens) AS cache_write_tokens,
       sum(cache_read_tokens) AS cache_read_tokens
FROM inserted
GROUP BY 1, 2, 3
"""


@dataclass(frozen=True, slots=True)
class InsertedTotals:
    """The rows one insert newly stored for a provider, model (``""``: none) and path."""

    provider: str
    model: str
    path: str
    events: int
    cost_usd: Decimal
    baseline_cost_usd: Decimal
    provider_reported_cost_usd: Decimal | None  # None: no row had a reported cost
    cost_mismatches: int  # rows with a reported cost flagged as a mismatch
    savings: dict[str, Decimal]  # per lever, the positive amounts only; absent: none
    tokens: dict[str, int]  # per token class

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> InsertedTotals:
        savings = {lever: row[f"savings_{lever}"] for lever in LEVERS}
        return cls(
            provider=row["provider"], model=row["model"], path=row["path"],
            events=row["events"], cost_usd=row["cost_usd"],
            baseline_cost_usd=row["baseline_cost_usd"],
            provider_reported_cost_usd=row["provider_reported_cost_usd"],
            cost_mismatches=row["cost_mismatches"],
            savings={lever: usd for lever, usd in savings.items() if usd is not None},
            tokens={token_class: row[token_class] for token_class in TOKEN_CLASSES},
        )  # fmt: skip


class CostStore:
    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 4) -> None:
        self._dsn = dsn
        self._min, self._max = min_size, max_size
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn, min_size=self._min, max_size=self._max, command_timeout=30
        )
        await self.migrate()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("CostStore is not started")
        return self._pool

    async def migrate(self) -> list[str]:
        """Apply pending migrations; returns the names applied now."""
        applied_now: list[str] = []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for name, sql in _migrations():
                if name in done:
                    continue
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied_now.append(name)
        return applied_now

    async def insert(self, events: Sequence[CostEvent]) -> set[str]:
        """Insert and roll up in one statement; returns the event ids that were new."""
        if not events:
            return set()
        rows = await self.pool.fetch(_INSERT, _batch_json(events))
        return {r["event_id"] for r in rows}

    async def insert_with_totals(self, events: Sequence[CostEvent]) -> list[InsertedTotals]:
        """Insert and roll up like ``insert``; returns the totals of the rows that were new
        (none: an empty list), one per provider, model and path."""
        if not events:
            return []
        rows = await self.pool.fetch(_INSERT_WITH_TOTALS, _batch_json(events))
        return [InsertedTotals.from_row(r) for r in rows]


def _batch_json(events: Sequence[CostEvent]) -> str:
    return _BATCH.dump_json(list(events)).decode()


async def connect_store(database_url: SecretStr | None, *, max_size: int = 4) -> CostStore:
    """A started store (pool of up to ``max_size`` connections, migrations applied),
    waiting for Postgres as long as it takes. Shared by every agent that uses Postgres."""
    if database_url is None:
        raise RuntimeError("FRUGALFLOW_DATABASE_URL (or DATABASE_URL) is required for the sink")
    store = CostStore(database_url.get_secret_value(), max_size=max_size)

    async def start() -> CostStore:
        try:
            await store.start()
        except BaseException:
            await store.close()  # a half-open pool must not leak into the next attempt
            raise
        return store

    return await until_done("Postgres connect", start)


def _migrations() -> list[tuple[str, str]]:
    folder = resources.files("frugalflow.sink").joinpath("migrations")
    files = [f for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted((f.name, f.read_text()) for f in files)
