"""Gemini Batch Mode with inline requests.

* ``POST /v1beta/models/{model}:batchGenerateContent`` with
  ``{"batch": {"displayName", "inputConfig": {"requests": {"requests": [{"request",
  "metadata": {"key"}}]}}}}`` (snake_case keys accepted too) -> a long-running operation
  ``{"name": "batches/<id>", "metadata": <batch>, "done": false}``;
* ``GET /v1beta/batches/{id}`` -> the operation; when done with results, the batch's
  ``output.inlinedResponses.inlinedResponses`` (also under ``response``) lists one
  ``{"response" | "error", "metadata"}`` per request, in input order;
* ``GET /v1beta/batches?pageSize=&pageToken=`` -> ``{"operations", "nextPageToken"}``,
  newest first;
* ``POST /v1beta/batches/{id}:cancel`` -> ``{}``; the batch ends ``BATCH_STATE_CANCELLED``.

States: ``BATCH_STATE_PENDING`` -> ``BATCH_STATE_RUNNING`` -> ``BATCH_STATE_SUCCEEDED`` (or
``_FAILED`` / ``_CANCELLED`` / ``_EXPIRED``). Per-request faults (``batch_error_rate``,
``batch_error_custom_ids`` matched against ``metadata.key``) give a ``google.rpc.Status``
error line (code 13, INTERNAL). An expired batch has no results, as documented for the real
service, except the first ``batch_expire_completed`` requests (a test knob).

The records live beside the app state (``EmulatorState`` has no Gemini slot) and are
dropped when the state is reset.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from frugalflow.emulator.batches import new_id, plan_outcomes, rfc3339
from frugalflow.emulator.bodies import read_json_object
from frugalflow.emulator.errors import ApiError
from frugalflow.emulator.gemini_api import (
    PREFIX,
    generate_content,
    invalid_argument,
    validate_params,
)
from frugalflow.emulator.state import STATE_KEY, EmulatorState
from frugalflow.emulator.stats import Stats

MAX_REQUESTS = 100_000
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"
TERMINAL = frozenset(
    {"BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"}
)
GRPC_INTERNAL = 13
GRPC_INVALID_ARGUMENT = 3


@dataclass
class GeminiBatch:
    id: str  # "<id>"; the resource name is "batches/<id>"
    model: str
    display_name: str
    requests: list[dict[str, Any]]  # [{"request": {...}, "metadata": {...}}]
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    state: str = "BATCH_STATE_PENDING"
    canceled: bool = False
    responses: list[dict[str, Any]] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def name(self) -> str:
        return f"batches/{self.id}"


class _Store:
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.batches: dict[str, GeminiBatch] = {}


_stores: weakref.WeakKeyDictionary[EmulatorState, _Store] = weakref.WeakKeyDictionary()


def batches_of(state: EmulatorState) -> dict[str, GeminiBatch]:
    """This app's Gemini batches; emptied after ``state.reset()`` (which replaces ``stats``)."""
    store = _stores.get(state)
    if store is None or store.stats is not state.stats:
        store = _stores[state] = _Store(state.stats)
    return store.batches


def _get(value: dict[str, Any], camel: str, snake: str) -> Any:
    return value.get(camel, value.get(snake))


def _stats(batch: GeminiBatch) -> dict[str, str]:
    total = len(batch.requests)
    if batch.responses is None:
        pending = total if batch.state not in TERMINAL else 0
        return {"requestCount": str(total), "pendingRequestCount": str(pending)}
    failed = sum(1 for r in batch.responses if "error" in r)
    return {
        "requestCount": str(total),
        "successfulRequestCount": str(len(batch.responses) - failed),
        "failedRequestCount": str(failed),
        "pendingRequestCount": "0",
    }


def _operation(batch: GeminiBatch) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "@type": BATCH_TYPE,
        "model": f"models/{batch.model}",
        "displayName": batch.display_name,
        "createTime": rfc3339(batch.created_at),
        "updateTime": rfc3339(batch.updated_at),
        "batchStats": _stats(batch),
        "state": batch.state,
        "name": batch.name,
    }
    if batch.ended_at is not None:
        metadata["endTime"] = rfc3339(batch.ended_at)
    operation: dict[str, Any] = {"name": batch.name, "metadata": metadata}
    if batch.state in TERMINAL:
        operation["done"] = True
    if batch.responses is not None:
        output = {"inlinedResponses": {"inlinedResponses": batch.responses}}
        metadata["output"] = output
        operation["response"] = {"@type": OUTPUT_TYPE, **output}
    return operation


def _run_one(state: EmulatorState, model: str, entry: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {"metadata": entry.get("metadata") or {}}
    try:
        params = validate_params(model, entry.get("request") or {})
    except ApiError as exc:
        line["error"] = {"code": GRPC_INVALID_ARGUMENT, "message": exc.message}
    else:
        line["response"] = generate_content(state, params)
    return line


def _process(state: EmulatorState, batch: GeminiBatch) -> None:
    batch.updated_at = batch.ended_at = time.time()
    if batch.canceled:
        batch.state = "BATCH_STATE_CANCELLED"
        return
    keys = [str((entry.get("metadata") or {}).get("key", "")) for entry in batch.requests]
    outcomes = plan_outcomes(state.config, keys, canceled=False)
    responses = []
    for entry, outcome in zip(batch.requests, outcomes, strict=True):
        if outcome == "expired":
            continue
        if outcome == "error":
            responses.append(
                {
                    "metadata": entry.get("metadata") or {},
                    "error": {"code": GRPC_INTERNAL, "message": "Internal error (emulated)."},
                }
            )
        else:
            responses.append(_run_one(state, batch.model, entry))
    if state.config.batch_expire:
        batch.state = "BATCH_STATE_EXPIRED"
        batch.responses = responses or None
    else:
        batch.state = "BATCH_STATE_SUCCEEDED"
        batch.responses = responses


def _start(batch: GeminiBatch) -> bool:
    if batch.state != "BATCH_STATE_PENDING":
        return False
    batch.state = "BATCH_STATE_RUNNING"
    batch.updated_at = time.time()
    return True


async def handle_create(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json_object(request)
    spec = body.get("batch")
    if not isinstance(spec, dict):
        raise invalid_argument("* BatchGenerateContentRequest.batch: batch is required")
    display_name = _get(spec, "displayName", "display_name")
    if not isinstance(display_name, str) or not display_name:
        raise invalid_argument("* GenerateContentBatch.display_name: display_name is required")
    input_config = _get(spec, "inputConfig", "input_config")
    container = input_config.get("requests") if isinstance(input_config, dict) else None
    entries = container.get("requests") if isinstance(container, dict) else None
    if not isinstance(entries, list) or not entries:
        raise invalid_argument("* GenerateContentBatch.input_config: requests are required")
    if len(entries) > MAX_REQUESTS:
        raise invalid_argument(f"* GenerateContentBatch: at most {MAX_REQUESTS} requests")
    if not all(isinstance(e, dict) and isinstance(e.get("request"), dict) for e in entries):
        raise invalid_argument("* InlinedRequest.request: request is required")

    batch = GeminiBatch(
        id=new_id(""),
        model=request.match_info["model"],
        display_name=display_name,
        requests=[{"request": e["request"], "metadata": e.get("metadata") or {}} for e in entries],
    )
    batches_of(state)[batch.id] = batch
    state.stats.batches_created["gemini"] += 1
    state.runner.schedule(
        lambda: state.config.batch_delay_s,
        batch.wake,
        lambda: _process(state, batch),
        start=lambda: _start(batch),
    )
    return web.json_response(_operation(batch))


def _batch(request: web.Request) -> GeminiBatch:
    batch_id = request.match_info["batch_id"]
    batch = batches_of(request.app[STATE_KEY]).get(batch_id)
    if batch is None:
        raise ApiError(404, f"Batch batches/{batch_id} not found.", error_type="NOT_FOUND")
    return batch


async def handle_get(request: web.Request) -> web.Response:
    return web.json_response(_operation(_batch(request)))


async def handle_cancel(request: web.Request) -> web.Response:
    batch = _batch(request)
    if batch.state not in TERMINAL:
        batch.canceled = True
        batch.wake.set()  # the runner finishes it now, as cancelled
    return web.json_response({})


async def handle_list(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        size = int(request.query.get("pageSize", "50"))
        start = int(request.query.get("pageToken") or "0")
    except ValueError as exc:
        raise invalid_argument("Invalid pageSize or pageToken.") from exc
    size = max(1, min(size, 1000))
    ordered = list(reversed(batches_of(state).values()))  # newest first
    page = ordered[start : start + size]
    body: dict[str, Any] = {"operations": [_operation(b) for b in page]}
    if start + size < len(ordered):
        body["nextPageToken"] = str(start + size)
    return web.json_response(body)


def routes() -> list[web.RouteDef]:
    return [
        web.post(PREFIX + "/models/{model}:batchGenerateContent", handle_create),
        web.get(PREFIX + "/batches", handle_list),
        web.get(PREFIX + "/batches/{batch_id}", handle_get),
        web.post(PREFIX + "/batches/{batch_id}:cancel", handle_cancel),
    ]
