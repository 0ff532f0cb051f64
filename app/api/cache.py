"""``DELETE /v1/cache/{tenant}``: drop a tenant's cached responses from Redis.

Response-cache keys are ``ff:rc:{tenant}:...`` (``KEY_PREFIX``); they are found with SCAN
(never KEYS, which blocks Redis) and deleted in chunks.
"""

from __future__ import annotations

import re

import redis.asyncio
from aiohttp import web

from app.api.errors import ApiError
from app.api.models import CacheInvalidated
from app.api.routing import TENANT, Operation, json, path_param, state

KEY_PREFIX = "ff:rc:"
SCAN_COUNT = 1000
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


def tenant_pattern(tenant: str) -> str:
    """The SCAN MATCH pattern of a tenant's keys, glob characters in the id escaped."""
    escaped = _GLOB_SPECIAL.sub(r"\\\1", tenant)
    return f"{KEY_PREFIX}{escaped}:*"


async def invalidate(client: redis.asyncio.Redis, tenant: str) -> int:
    deleted = 0
    chunk: list[bytes] = []
    async for key in client.scan_iter(match=tenant_pattern(tenant), count=SCAN_COUNT):
        chunk.append(key)
        if len(chunk) >= SCAN_COUNT:
            deleted += await client.unlink(*chunk)
            chunk = []
    if chunk:
        deleted += await client.unlink(*chunk)
    return deleted


async def delete_cache(request: web.Request) -> web.Response:
    tenant = path_param(request, TENANT)
    try:
        deleted = await invalidate(state(request).redis(), tenant)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        raise ApiError(503, "cache_unavailable", "Redis is unreachable") from None
    return json(CacheInvalidated(tenant=tenant, deleted=deleted))


OPERATIONS = [
    Operation("DELETE", "/v1/cache/{tenant}", delete_cache,
              "Invalidate a tenant's cached responses", "cache", "invalidateCache",
              path_params=(TENANT,), response=CacheInvalidated, errors=(400, 503)),
]  # fmt: skip
