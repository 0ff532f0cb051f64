"""Receivers and a database of the module's own for the alert-delivery tests."""

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


async def fresh_database(dsn: str) -> str:
    """A new, empty database on the same server: no other test's deliveries in it."""
    name = f"alerts_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = dsn.rpartition("/")
    query = ""
    if "?" in dsn.rpartition("/")[2]:
        query = "?" + dsn.rpartition("?")[2]
    return f"{base}/{name}{query}"


@pytest.fixture(scope="module")
async def alerts_dsn(postgres_dsn: str) -> str:
    return await fresh_database(postgres_dsn)
