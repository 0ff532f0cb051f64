"""Redis for the response- and semantic-cache tests: a real ``redis-server`` per module,
and a private one for tests that stop or freeze it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio

from frugalflow.infra.redis_server import LocalRedis


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A plain client with generous timeouts, for the tests' own reads and writes."""
    client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=10)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    """A Redis of the test's own, which it may stop, restart or freeze."""
    server = LocalRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
