"""``DELETE /v1/cache/{tenant}``: drop a tenant's cached responses from Redis, or with
``?user_id=`` only the entries that user's requests created.

The key layout and both invalidations live in ``frugalflow.policy.response_cache``: a tenant's
keys are found with SCAN (never KEYS, which blocks Redis) under a prefix in which the
tenant id is escaped, so no other tenant's keys match; a user's entries come from the
per-user index. ``deleted`` counts the Redis keys removed.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from frugalflow.api.errors import ApiError
from frugalflow.api.models import CacheInvalidated
from frugalflow.api.routing import TENANT, Operation, json, path_param, query, state
from frugalflow.policy.response_cache import CacheUnavailable, ResponseCache


class CacheQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="only the entries this user's requests created (the request's user_id)",
    )


async def delete_cache(request: web.Request) -> web.Response:
    tenant = path_param(request, TENANT)
    user_id = query(request, CacheQuery).user_id
    cache = ResponseCache(state(request).redis())
    try:
        if user_id is None:
            deleted = await cache.invalidate_tenant(tenant)
        else:
            deleted = await cache.invalidate_user(tenant, user_id)
    except CacheUnavailable:
        raise ApiError(503, "cache_unavailable", "Redis is unreachable") from None
    return json(CacheInvalidated(tenant=tenant, deleted=deleted))


OPERATIONS = [
    Operation("DELETE", "/v1/cache/{tenant}", delete_cache,
              "Invalidate a tenant's cached responses, or one user's (user_id)", "cache",
              "invalidateCache", path_params=(TENANT,), query=CacheQuery,
              response=CacheInvalidated, errors=(400, 503)),
]  # fmt: skip
