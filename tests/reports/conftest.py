"""Real Postgres for the report tests: one fresh schema per test module.

The store connects with ``search_path`` set to the module's schema, so its migrations,
rollups and the reports all run there, isolated from other modules and from the
end-to-end tests sharing the server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from frugalflow.sink.store import CostStore
from tests.pg_schema import fresh_schema


@pytest.fixture(scope="module")
async def store(postgres_dsn: str) -> AsyncIterator[CostStore]:
    async with fresh_schema(postgres_dsn, "reports") as dsn:
        s = CostStore(dsn)
        await s.start()
        try:
            yield s
        finally:
            await s.close()


@pytest.fixture
def tenant() -> str:
    """A tenant id no other test uses (tests of a module share its schema)."""
    return f"tenant-{uuid.uuid4().hex[:8]}"
