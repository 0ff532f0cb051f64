"""A Postgres schema of a test module's own: its DSN selects it (``search_path``)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg

from frugalflow.bench.runner import with_search_path


async def execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_schema(postgres_dsn: str, prefix: str) -> AsyncIterator[str]:
    """The DSN of a new schema ``<prefix>_<hex>``, dropped on exit."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await execute(postgres_dsn, f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(postgres_dsn, schema)
    finally:
        await execute(postgres_dsn, f"DROP SCHEMA {schema} CASCADE")
