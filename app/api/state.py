"""What the API's handlers share: settings, the Postgres pool and the Redis client.

Both connections open lazily, so the API starts (and answers ``/health``) while Postgres
or Redis is still down; the first request that needs one opens it. The pool is the sink's
``CostStore``, which also applies pending migrations.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio

from frugalflow.api.errors import ApiError
from frugalflow.settings import Settings
from frugalflow.sink.store import CostStore

CONNECT_TIMEOUT_S = 5.0


@dataclass
class ApiState:
    settings: Settings
    _store: CostStore | None = None
    _redis: redis.asyncio.Redis | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def pool(self) -> asyncpg.Pool:
        """The pool, opened on first use; 503 ``database_unavailable`` when it cannot be."""
        if self._store is not None:
            return self._store.pool
        if self.settings.database_url is None:
            raise ApiError(503, "database_unavailable", "FRUGALFLOW_DATABASE_URL is not set")
        async with self._lock:
            if self._store is None:
                store = CostStore(self.settings.database_url.get_secret_value())
                try:
                    await asyncio.wait_for(store.start(), CONNECT_TIMEOUT_S)
                except Exception as exc:
                    await store.close()
                    raise ApiError(
                        503,
                        "database_unavailable",
                        f"Postgres is unreachable ({type(exc).__name__})",
                    ) from None
                self._store = store
        return self._store.pool

    def redis(self) -> redis.asyncio.Redis:
        if self.settings.redis_url is None:
            raise ApiError(503, "cache_unavailable", "no response cache: REDIS_URL is not set")
        if self._redis is None:
            self._redis = redis.asyncio.Redis.from_url(
                self.settings.redis_url.get_secret_value(),
                socket_connect_timeout=CONNECT_TIMEOUT_S,
                socket_timeout=CONNECT_TIMEOUT_S,
            )
        return self._redis

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
