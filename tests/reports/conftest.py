"""Real Postgres for the report tests: one fresh schema per test module.

The store connects with ``search_path`` set to the module's schema, so its migrations,
rollups and the reports all run there, isolated from other modules and from the
end-to-end tests sharing the server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from frugalflow.sink.store import CostStore


@pytest.fixture(scope="module")
async def store(postgres_dsn: str) -> AsyncIterator[CostStore]:
    schema = f"reports_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_dsn)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
    finally:
        await admin.close()
    separator = "&" if "?" in postgres_dsn else "?"
    s = CostStore(f"{postgres_dsn}{separator}search_path={schema}")
    await s.start()
    try:
        yield s
    finally:
        await s.close()
        admin = await asyncpg.connect(postgres_dsn)
        try:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await admin.close()


@pytest.fixture
def tenant() -> str:
    """A tenant id no other test uses (tests of a module share its schema)."""
    return f"tenant-{uuid.uuid4().hex[:8]}"
