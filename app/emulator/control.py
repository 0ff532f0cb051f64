"""Test-control endpoints under ``/_emulator`` (never subject to latency or faults).

* ``GET /_emulator/config``  -> the live config
* ``PUT /_emulator/config``  -> partial update (JSON object), returns the new config; 400 on
  unknown fields or invalid values
* ``GET /_emulator/stats``   -> counters and the last N request bodies
* ``POST /_emulator/reset``  -> startup config, empty caches/batches/files/stats
* ``GET /_emulator/health``  -> ``{"ok": true}``
"""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import ValidationError

from app.emulator.state import STATE_KEY


def _control_error(message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error"}}, status=400
    )


async def handle_get_config(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].config.model_dump(mode="json"))


async def handle_put_config(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        changes = json.loads(await request.read() or b"{}")
    except ValueError:
        return _control_error("body must be a JSON object")
    if not isinstance(changes, dict):
        return _control_error("body must be a JSON object")
    try:
        config = state.update_config(changes)
    except ValidationError as exc:
        return _control_error(str(exc))
    return web.json_response(config.model_dump(mode="json"))


async def handle_stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].stats.snapshot())


async def handle_reset(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    await state.reset()
    return web.json_response({"ok": True, "config": state.config.model_dump(mode="json")})


async def handle_health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/_emulator/config", handle_get_config),
        web.put("/_emulator/config", handle_put_config),
        web.get("/_emulator/stats", handle_stats),
        web.post("/_emulator/reset", handle_reset),
        web.get("/_emulator/health", handle_health),
    ]
