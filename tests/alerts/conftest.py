"""Receivers and a Postgres schema of the module's own for the alert-delivery tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.alerts.receivers import HttpReceiver, SmtpReceiver
from tests.pg_schema import fresh_schema


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
    async with fresh_schema(postgres_dsn, "alerts") as dsn:
        yield dsn
