"""Receivers and a Postgres schema of the module's own for the alert-delivery tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.alerts.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture(scope="module")
async def http_receiver() -> AsyncIterator[HttpReceiver]:
    receiver = await HttpReceiver().start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="module")
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
async def alerts_dsn(postgres_dsn: str) -> AsyncIterator[str]:
    """A fresh schema (``search_path``): no other test's deliveries in it; dropped after."""
    schema = f"alerts_{uuid.uuid4().hex[:10]}"
    await _execute(postgres_dsn, f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_dsn else "?"
    try:
        yield f"{postgres_dsn}{separator}search_path={schema}"
    finally:
        await _execute(postgres_dsn, f"DROP SCHEMA {schema} CASCADE")


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
