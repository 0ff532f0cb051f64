"""The CLI reads whatever ``DATABASE_URL`` points at: give each module its own schema.

The tests here are synchronous (the CLI runs its own event loop with ``asyncio.run``), so
the helpers below open their own short-lived connections too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
import pytest

from frugalflow.events import CostEvent
from frugalflow.sink.store import CostStore


async def _execute(dsn: str, sql: str, *args: Any) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


def execute(dsn: str, sql: str, *args: Any) -> None:
    asyncio.run(_execute(dsn, sql, *args))


def insert(dsn: str, events: Sequence[CostEvent]) -> None:
    async def go() -> None:
        store = CostStore(dsn)
        await store.start()  # applies the migrations once per schema
        try:
            await store.insert(events)
        finally:
            await store.close()

    asyncio.run(go())


@pytest.fixture(scope="module")
def cli_dsn(postgres_dsn: str) -> Iterator[str]:
    """A DSN whose ``search_path`` is a fresh, migrated schema of this module."""
    schema = f"cli_{uuid.uuid4().hex[:10]}"
    execute(postgres_dsn, f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_dsn else "?"
    dsn = f"{postgres_dsn}{separator}search_path={schema}"
    insert(dsn, [])
    try:
        yield dsn
    finally:
        execute(postgres_dsn, f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def db_env(cli_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``DATABASE_URL`` set to the module's schema for in-process ``main([...])`` calls."""
    monkeypatch.delenv("FRUGALFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", cli_dsn)
    return cli_dsn


@pytest.fixture
def tenant() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"
