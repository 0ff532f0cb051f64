"""Postgres access for the sink: migrations at start, idempotent batch inserts.

One insert is one statement: the raw rows (``ON CONFLICT DO NOTHING``) and, from exactly
the rows newly inserted, the daily ``cost_rollups`` (an upsert adding to the counters).
Both commit or neither does, so a redelivered event changes neither table.

Migrations are the numbered ``migrations/*.sql`` files, applied once each in order under
an advisory lock, so several workers starting together apply them exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import asyncpg
from pydantic import SecretStr

from frugalflow.events import CostEvent
from frugalflow.sink.retry import until_done

_MIGRATION_LOCK = 0x46464C57  # "FFLW": one advisory lock id for the whole project

_INSERT = """
WITH incoming AS (
    -- One JSON array of the batch's events, parsed by Postgres: binding 25 arrays
    -- cost the sink more CPU than everything else it does (README, Performance).
    SELECT * FROM json_to_recordset($1::json) AS e(
        event_id text, request_id text, tenant_id text, service text, use_case text,
        provider text, model text, path text, input_tokens int, output_tokens int,
        cache_write_tokens int, cache_read_tokens int, cost_usd numeric,
        baseline_cost_usd numeric, savings_usd json, success bool, occurred_at timestamptz,
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
SELECT event_id FROM inserted
"""


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
        batch = "[" + ",".join(event.model_dump_json() for event in events) + "]"
        rows = await self.pool.fetch(_INSERT, batch)
        return {r["event_id"] for r in rows}


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
