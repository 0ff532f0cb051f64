"""Anthropic Message Batches API.

``POST /v1/messages/batches``, ``GET /v1/messages/batches[/{id}[/results]]`` and
``POST /v1/messages/batches/{id}/cancel``. Request params are validated when the batch is
processed (a bad request becomes an ``errored`` line, as in the real API); the envelope
(custom ids) is validated at creation.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp import web

from frugalflow.emulator.anthropic_api import api_version, create_message, validate_params
from frugalflow.emulator.batches import (
    BATCH_WINDOW_S,
    AnthropicBatch,
    new_id,
    plan_outcomes,
    rfc3339,
)
from frugalflow.emulator.bodies import read_json_object
from frugalflow.emulator.errors import ApiError, anthropic_error_body, bad_request
from frugalflow.emulator.state import STATE_KEY, EmulatorState

CUSTOM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_REQUESTS = 100_000
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")


def _to_json(batch: AnthropicBatch, origin: str) -> dict[str, Any]:
    ended = batch.processing_status == "ended"
    counts = {key: 0 for key in ("processing", *RESULT_TYPES)}
    if ended:
        for line in batch.results:
            counts[line["result"]["type"]] += 1
    else:
        counts["processing"] = len(batch.requests)
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": batch.processing_status,
        "request_counts": counts,
        "created_at": rfc3339(batch.created_at),
        "expires_at": rfc3339(batch.created_at + BATCH_WINDOW_S),
        "ended_at": rfc3339(batch.ended_at),
        "cancel_initiated_at": rfc3339(batch.cancel_initiated_at),
        "archived_at": None,
        "results_url": f"{origin}/v1/messages/batches/{batch.id}/results" if ended else None,
    }


def _origin(request: web.Request) -> str:
    return str(request.url.origin())


def _get_batch(request: web.Request) -> AnthropicBatch:
    batch_id = request.match_info["batch_id"]
    batch = request.app[STATE_KEY].anthropic_batches.get(batch_id)
    if batch is None:
        raise ApiError(404, f"message_batch {batch_id!r} not found")
    return batch


def _process(state: EmulatorState, batch: AnthropicBatch) -> None:
    canceled = batch.processing_status == "canceling"
    custom_ids = [r["custom_id"] for r in batch.requests]
    outcomes = plan_outcomes(state.config, custom_ids, canceled=canceled)
    results = []
    for request, outcome in zip(batch.requests, outcomes, strict=True):
        result: dict[str, Any]
        if outcome in ("canceled", "expired"):
            result = {"type": outcome}
        elif outcome == "error":
            message = "Internal server error (emulated batch_error)"
            result = {"type": "errored", "error": anthropic_error_body(500, message)}
        else:
            try:
                params = validate_params(request["params"], batch.api_version)
            except ApiError as exc:
                error = anthropic_error_body(exc.status, exc.message)
                result = {"type": "errored", "error": error}
            else:
                message_json = create_message(state, params, service_tier="batch")
                result = {"type": "succeeded", "message": message_json}
        results.append({"custom_id": request["custom_id"], "result": result})
    batch.results = results
    batch.processing_status = "ended"
    batch.ended_at = time.time()


async def handle_create(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json_object(request)
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("requests: Field required (a non-empty list)")
    if len(requests) > MAX_REQUESTS:
        raise bad_request(f"requests: at most {MAX_REQUESTS} requests per batch")
    seen: set[str] = set()
    for index, entry in enumerate(requests):
        if not isinstance(entry, dict) or not isinstance(entry.get("params"), dict):
            raise bad_request(f"requests.{index}.params: Field required")
        custom_id = entry.get("custom_id")
        if not isinstance(custom_id, str) or not CUSTOM_ID_RE.match(custom_id):
            raise bad_request(
                f"requests.{index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            )
        if custom_id in seen:
            raise bad_request(f"requests.{index}.custom_id: duplicate custom_id {custom_id!r}")
        seen.add(custom_id)

    batch = AnthropicBatch(
        id=new_id("msgbatch_"),
        requests=[{"custom_id": r["custom_id"], "params": r["params"]} for r in requests],
        api_version=api_version(request),
    )
    state.anthropic_batches[batch.id] = batch
    state.stats.batches_created["anthropic"] += 1
    state.runner.schedule(
        lambda: state.config.batch_delay_s, batch.wake, lambda: _process(state, batch)
    )
    return web.json_response(_to_json(batch, _origin(request)))


async def handle_retrieve(request: web.Request) -> web.Response:
    return web.json_response(_to_json(_get_batch(request), _origin(request)))


async def handle_results(request: web.Request) -> web.Response:
    batch = _get_batch(request)
    if batch.processing_status != "ended":
        raise bad_request(f"message_batch {batch.id!r} has not ended; results are not available")
    payload = "".join(json.dumps(line) + "\n" for line in batch.results)
    return web.Response(body=payload.encode(), content_type="application/x-jsonl")


async def handle_cancel(request: web.Request) -> web.Response:
    batch = _get_batch(request)
    if batch.processing_status == "in_progress":
        batch.processing_status = "canceling"
        batch.cancel_initiated_at = time.time()
        batch.wake.set()  # the runner finishes it now: every unprocessed line is canceled
    return web.json_response(_to_json(batch, _origin(request)))


async def handle_list(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError as exc:
        raise bad_request("limit: Input should be a valid integer") from exc
    if not 1 <= limit <= 1000:
        raise bad_request("limit: Input should be between 1 and 1000")
    # Newest first; after_id pages forward (older), before_id backward (newer).
    ordered = list(reversed(state.anthropic_batches.values()))  # insertion = creation order
    ids = [b.id for b in ordered]
    after_id = request.query.get("after_id")
    before_id = request.query.get("before_id")
    if after_id is not None:
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
        page = ordered[start : start + limit]
        has_more = start + limit < len(ordered)
    elif before_id is not None:
        end = ids.index(before_id) if before_id in ids else 0
        page = ordered[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page = ordered[:limit]
        has_more = limit < len(ordered)
    origin = _origin(request)
    return web.json_response(
        {
            "data": [_to_json(b, origin) for b in page],
            "has_more": has_more,
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
        }
    )


def routes() -> list[web.RouteDef]:
    return [
        web.post("/v1/messages/batches", handle_create),
        web.get("/v1/messages/batches", handle_list),
        web.get("/v1/messages/batches/{batch_id}", handle_retrieve),
        web.get("/v1/messages/batches/{batch_id}/results", handle_results),
        web.post("/v1/messages/batches/{batch_id}/cancel", handle_cancel),
    ]
