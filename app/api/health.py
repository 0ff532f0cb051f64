"""Liveness and readiness (no authentication)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from frugalflow.api.models import Health, Ready
from frugalflow.api.routing import Operation, json, state

READY_TIMEOUT_S = 3.0


async def health(request: web.Request) -> web.Response:
    return json(Health())


async def ready(request: web.Request) -> web.Response:
    try:
        pool = await state(request).pool()
        await asyncio.wait_for(pool.fetchval("SELECT 1"), READY_TIMEOUT_S)
    except Exception:  # ApiError (cannot connect), timeout, connection lost...
        return json(Ready(status="unavailable", postgres="unreachable"), 503)
    return json(Ready(status="ready", postgres="ok"))


OPERATIONS = [
    Operation("GET", "/health", health, "Liveness: the process answers", "health", "health",
              response=Health, public=True),
    Operation("GET", "/ready", ready, "Readiness: Postgres is reachable (200) or not (503)",
              "health", "ready", response=Ready, also=(503,), public=True),
]  # fmt: skip
