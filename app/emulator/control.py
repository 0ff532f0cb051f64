"""Test-control endpoints under ``/_emulator`` (never subject to latency or faults).

* ``GET /_emulator/config``  -> the live config
* ``PUT /_emulator/config``  -> partial update (JSON object), returns the new config; 400 on
  unknown fields or invalid values
* ``GET /_emulator/stats``   -> counters and the last N request bodies
* ``PUT /_emulator/requests`` -> ``{"enabled": true, "limit": 10000}`` starts a fresh full
  capture of request bodies, ``{"enabled": false}`` stops it; 400 on invalid fields
* ``GET /_emulator/requests`` -> the captured bodies, each OpenAI batch with the content of
  its input file (what a provider really receives on the batch path)
* ``POST /_emulator/reset``  -> startup config, empty caches/batches/files/stats
* ``GET /_emulator/health``  -> ``{"ok": true}``
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from frugalflow.emulator.state import STATE_KEY, EmulatorState
from frugalflow.emulator.stats import RequestCapture

BATCH_CREATE = "POST /v1/batches"


class CaptureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    limit: int = Field(default=RequestCapture.DEFAULT_LIMIT, ge=1, le=1_000_000)


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


async def handle_put_requests(request: web.Request) -> web.Response:
    capture = request.app[STATE_KEY].stats.capture
    try:
        settings = CaptureSettings.model_validate_json(await request.read() or b"{}")
    except ValidationError as exc:
        return _control_error(str(exc))
    if settings.enabled:
        capture.start(settings.limit)
    else:
        capture.stop()
    return web.json_response({"enabled": capture.enabled, "limit": capture.limit})


async def handle_get_requests(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    snapshot = state.stats.capture.snapshot()
    snapshot["requests"] = [_with_input_file(state, entry) for entry in snapshot["requests"]]
    return web.json_response(snapshot)


def _with_input_file(state: EmulatorState, entry: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI batch-create entry gains its input file's text (the prompts live there)."""
    body = entry.get("body")
    if entry.get("endpoint") != BATCH_CREATE or not isinstance(body, dict):
        return entry
    stored = state.files.get(str(body.get("input_file_id")))
    content = None if stored is None else stored.content.decode("utf-8", "replace")
    return {**entry, "input_file": content}


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
        web.put("/_emulator/requests", handle_put_requests),
        web.get("/_emulator/requests", handle_get_requests),
        web.post("/_emulator/reset", handle_reset),
        web.get("/_emulator/health", handle_health),
    ]
