"""OpenAI Batch API: create / retrieve / cancel / list, with output and error files.

Lifecycle: ``validating`` -> (``failed`` on a bad input file) -> ``in_progress`` ->
(after ``batch_delay_s``) ``finalizing`` -> ``completed`` | ``expired`` | ``cancelled``
(``cancelling`` in between when cancelled). Output lines are
``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error": null}``;
failed requests go to the error file, either with an HTTP ``response`` (status >= 400) or,
for batch-level fates (expired/cancelled), ``"response": null`` and ``"error": {code, message}``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from frugalflow.emulator.batches import OpenAIBatch, new_id, plan_outcomes
from frugalflow.emulator.bodies import read_json_object
from frugalflow.emulator.errors import ApiError, bad_request, new_request_id, openai_error_body
from frugalflow.emulator.openai_api import create_completion, validate_params
from frugalflow.emulator.state import STATE_KEY, EmulatorState

SUPPORTED_ENDPOINT = "/v1/chat/completions"
BATCH_WINDOW_S = 24 * 3600
MAX_METADATA_KEYS = 16
ACTIVE = ("validating", "in_progress", "finalizing")


def _to_json(batch: OpenAIBatch) -> dict[str, Any]:
    stamps = batch.timestamps
    return {
        "id": batch.id,
        "object": "batch",
        "endpoint": batch.endpoint,
        "model": batch.model,
        "errors": None if batch.errors is None else {"object": "list", "data": batch.errors},
        "input_file_id": batch.input_file_id,
        "completion_window": batch.completion_window,
        "status": batch.status,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "created_at": batch.created_at,
        "in_progress_at": stamps.get("in_progress_at"),
        "expires_at": batch.created_at + BATCH_WINDOW_S,
        "finalizing_at": stamps.get("finalizing_at"),
        "completed_at": stamps.get("completed_at"),
        "failed_at": stamps.get("failed_at"),
        "expired_at": stamps.get("expired_at"),
        "cancelling_at": stamps.get("cancelling_at"),
        "cancelled_at": stamps.get("cancelled_at"),
        "request_counts": {
            "total": batch.total,
            "completed": batch.completed,
            "failed": batch.failed,
        },
        "usage": batch.usage,
        "metadata": batch.metadata,
    }


def _line_error(line: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"code": code, "line": line, "message": message, "param": param}


def parse_input(content: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(requests, validation errors) of a batch input JSONL file."""
    requests: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            errors.append(_line_error(number, "invalid_json_line", "This line is not valid JSON."))
            continue
        if not isinstance(entry, dict):
            errors.append(_line_error(number, "invalid_json_line", "Each line must be an object."))
            continue
        missing = [k for k in ("custom_id", "method", "url", "body") if k not in entry]
        if missing:
            message = f"Missing required parameter: '{missing[0]}'."
            errors.append(_line_error(number, "missing_required_parameter", message, missing[0]))
            continue
        if entry["url"] != endpoint:
            message = f"The url {entry['url']!r} does not match the batch endpoint {endpoint!r}."
            errors.append(_line_error(number, "mismatched_endpoint", message, "url"))
            continue
        if entry["method"] != "POST" or not isinstance(entry["body"], dict):
            message = "Only POST requests with an object body are supported."
            errors.append(_line_error(number, "invalid_request", message, "method"))
            continue
        custom_id = str(entry["custom_id"])
        if custom_id in seen:
            message = f"The custom_id {custom_id!r} is duplicated."
            errors.append(_line_error(number, "duplicate_custom_id", message, "custom_id"))
            continue
        seen.add(custom_id)
        requests.append({"custom_id": custom_id, "body": entry["body"]})
    if not requests and not errors:
        errors.append(_line_error(1, "empty_file", "The input file contains no requests."))
    return requests, errors


class _Run:
    """One batch's processing, split into the runner's start/finish callbacks."""

    def __init__(self, state: EmulatorState, batch: OpenAIBatch) -> None:
        self.state = state
        self.batch = batch
        self.requests: list[dict[str, Any]] = []

    def start(self) -> bool:
        batch = self.batch
        stored = self.state.files.get(batch.input_file_id)
        content = stored.content if stored is not None else b""
        self.requests, errors = parse_input(content, batch.endpoint)
        now = int(time.time())
        if errors:
            batch.status = "failed"
            batch.errors = errors
            batch.timestamps["failed_at"] = now
            return False
        if batch.status == "validating":  # a cancel may already have arrived
            batch.status = "in_progress"
        batch.timestamps["in_progress_at"] = now
        batch.total = len(self.requests)
        models = {r["body"].get("model") for r in self.requests}
        batch.model = next((m for m in models if isinstance(m, str)), None)
        return True

    def finish(self) -> None:
        batch, config = self.batch, self.state.config
        canceled = batch.status == "cancelling"
        custom_ids = [r["custom_id"] for r in self.requests]
        outcomes = plan_outcomes(config, custom_ids, canceled=canceled)
        if not canceled:
            batch.status = "finalizing"
            batch.timestamps["finalizing_at"] = int(time.time())
        output: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        usage = {"input": 0, "cached": 0, "output": 0}
        for request, outcome in zip(self.requests, outcomes, strict=True):
            line: dict[str, Any] = {"id": new_id("batch_req_"), "custom_id": request["custom_id"]}
            if outcome == "canceled":
                message = "This request was cancelled before it was executed."
                failures.append(
                    {**line, "response": None, "error": _fate("batch_cancelled", message)}
                )
            elif outcome == "expired":
                message = "This request could not be executed before the completion window expired."
                if config.openai_expired_in_error_file:
                    failures.append(
                        {**line, "response": None, "error": _fate("batch_expired", message)}
                    )
            elif outcome == "error":
                body = openai_error_body(
                    500, "The server had an error while processing (emulated)."
                )
                failures.append({**line, "response": _response(500, body), "error": None})
            else:
                try:
                    params = validate_params(request["body"])
                except ApiError as exc:
                    body = openai_error_body(
                        exc.status, exc.message, param=exc.param, code=exc.code
                    )
                    failures.append(
                        {**line, "response": _response(exc.status, body), "error": None}
                    )
                    continue
                completion = create_completion(self.state, params)
                output.append({**line, "response": _response(200, completion), "error": None})
                counted = completion["usage"]
                usage["input"] += counted["prompt_tokens"]
                usage["cached"] += counted["prompt_tokens_details"]["cached_tokens"]
                usage["output"] += counted["completion_tokens"]

        files = self.state.files
        if output:
            batch.output_file_id = files.add(
                f"batch_{batch.id}_output.jsonl", "batch_output", _jsonl(output)
            ).id
        if failures:
            batch.error_file_id = files.add(
                f"batch_{batch.id}_error.jsonl", "batch_output", _jsonl(failures)
            ).id
        batch.completed = len(output)
        batch.failed = len(self.requests) - len(output)
        batch.usage = {
            "input_tokens": usage["input"],
            "input_tokens_details": {"cached_tokens": usage["cached"]},
            "output_tokens": usage["output"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["input"] + usage["output"],
        }
        now = int(time.time())
        if canceled:
            batch.status, batch.timestamps["cancelled_at"] = "cancelled", now
        elif config.batch_expire:
            batch.status, batch.timestamps["expired_at"] = "expired", now
        else:
            batch.status, batch.timestamps["completed_at"] = "completed", now


def _fate(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"status_code": status, "request_id": new_request_id("openai"), "body": body}


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _get_batch(request: web.Request) -> OpenAIBatch:
    batch_id = request.match_info["batch_id"]
    batch = request.app[STATE_KEY].openai_batches.get(batch_id)
    if batch is None:
        raise ApiError(404, f"No batch found with id '{batch_id}'.", param="batch_id")
    return batch


async def handle_create(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json_object(request)
    for key in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(body.get(key), str):
            raise bad_request(
                f"Missing required parameter: '{key}'.",
                param=key,
                code="missing_required_parameter",
            )
    if body["endpoint"] != SUPPORTED_ENDPOINT:
        raise bad_request(
            f"The emulator only supports endpoint {SUPPORTED_ENDPOINT!r}.", param="endpoint"
        )
    if body["completion_window"] != "24h":
        raise bad_request("Invalid 'completion_window': expected '24h'.", param="completion_window")
    metadata = body.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or len(metadata) > MAX_METADATA_KEYS
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
            for k, v in metadata.items()
        )
    ):
        raise bad_request(
            "Invalid 'metadata': at most 16 string pairs (keys <= 64, values <= 512 chars).",
            param="metadata",
        )
    stored = state.files.get(body["input_file_id"])
    if stored is None:
        raise ApiError(404, f"No such File object: {body['input_file_id']}", param="input_file_id")
    if stored.purpose != "batch":
        raise bad_request(
            "The input file must be uploaded with purpose 'batch'.", param="input_file_id"
        )

    batch = OpenAIBatch(
        id=new_id("batch_"),
        input_file_id=stored.id,
        endpoint=body["endpoint"],
        completion_window=body["completion_window"],
        metadata=metadata,
    )
    state.openai_batches[batch.id] = batch
    state.stats.batches_created["openai"] += 1
    run = _Run(state, batch)
    state.runner.schedule(
        lambda: state.config.batch_delay_s, batch.wake, run.finish, start=run.start
    )
    return web.json_response(_to_json(batch))


async def handle_retrieve(request: web.Request) -> web.Response:
    return web.json_response(_to_json(_get_batch(request)))


async def handle_cancel(request: web.Request) -> web.Response:
    batch = _get_batch(request)
    if batch.status in ("cancelling", "cancelled"):
        return web.json_response(_to_json(batch))
    if batch.status not in ACTIVE:
        raise ApiError(409, f"Cannot cancel a batch with status '{batch.status}'.")
    batch.status = "cancelling"
    batch.timestamps["cancelling_at"] = int(time.time())
    batch.wake.set()
    return web.json_response(_to_json(batch))


async def handle_list(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError as exc:
        raise bad_request("Invalid 'limit': expected an integer.", param="limit") from exc
    limit = max(1, min(limit, 100))
    # Newest first; dicts keep insertion (= creation) order, finer than created_at seconds.
    ordered = list(reversed(state.openai_batches.values()))
    ids = [b.id for b in ordered]
    after = request.query.get("after")
    start = ids.index(after) + 1 if after in ids else 0
    page = ordered[start : start + limit]
    return web.json_response(
        {
            "object": "list",
            "data": [_to_json(b) for b in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": start + limit < len(ordered),
        }
    )


def routes() -> list[web.RouteDef]:
    return [
        web.post("/v1/batches", handle_create),
        web.get("/v1/batches", handle_list),
        web.get("/v1/batches/{batch_id}", handle_retrieve),
        web.post("/v1/batches/{batch_id}/cancel", handle_cancel),
    ]
