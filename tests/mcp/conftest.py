"""The MCP server as a subprocess over stdio, on a fresh schema of the suite's Postgres.

The schema and its migrated tables come from the report tests' ``store`` fixture;
``mcp_dsn`` points the server at that schema (``search_path`` in the URL).
"""

from __future__ import annotations

import pytest

from frugalflow.sink.store import CostStore
from tests.reports.conftest import store, tenant

__all__ = ["mcp_dsn", "store", "tenant"]


@pytest.fixture(scope="module")
async def mcp_dsn(postgres_dsn: str, store: CostStore) -> str:
    schema = await store.pool.fetchval("SELECT current_schema()")
    separator = "&" if "?" in postgres_dsn else "?"
    return f"{postgres_dsn}{separator}search_path={schema}"
