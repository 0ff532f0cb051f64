"""Request-body helpers shared by the API handlers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from frugalflow.emulator.errors import bad_request


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400 in the route's provider shape."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    return body


def loggable_body(raw: bytes) -> Any:
    """What the stats log keeps of a body: parsed JSON, else a short text preview."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"unparsed": raw[:200].decode("utf-8", "replace")}
