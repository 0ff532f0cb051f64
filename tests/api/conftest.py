"""The admin API against a real Postgres (a fresh schema per module) and a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from frugalflow.api import create_app
from frugalflow.sink.store import CostStore
from tests.api.helpers import api_settings
from tests.pg_schema import fresh_schema


@pytest.fixture(scope="module")
async def schema_dsn(postgres_dsn: str) -> AsyncIterator[str]:
    """The DSN of a fresh schema (``search_path``), dropped after the module."""
    async with fresh_schema(postgres_dsn, "api") as dsn:
        yield dsn


@pytest.fixture(scope="module")
async def store(schema_dsn: str) -> AsyncIterator[CostStore]:
    """The sink's store on the module's schema: migrated, for seeding cost events."""
    s = CostStore(schema_dsn)
    await s.start()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture(scope="module")
async def client(
    schema_dsn: str, store: CostStore, redis_url: str
) -> AsyncIterator[TestClient[object, object]]:
    app = create_app(api_settings(schema_dsn, redis_url=redis_url))
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"
