"""Gemini adapter (Gemini Developer API, REST ``v1beta``) over ``httpx.AsyncClient``.

Immediate: ``POST {base}/v1beta/models/{model}:generateContent`` with ``x-goog-api-key``.
``system`` becomes ``systemInstruction``, messages become ``contents`` (``assistant`` ->
role ``model``), ``max_tokens``/``temperature`` go in ``generationConfig``. Caching is
implicit (automatic prefix caching); nothing is placed in the request.

Usage is normalized from ``usageMetadata``: ``promptTokenCount`` *includes* cached tokens,
so ``input_tokens = promptTokenCount - cachedContentTokenCount`` and
``cache_read_tokens = cachedContentTokenCount``; output is ``candidatesTokenCount`` plus
``thoughtsTokenCount`` (thinking is billed as output); cache writes are 0.

Batch: ``POST {base}/v1beta/models/{model}:batchGenerateContent`` with inline requests, one
model per batch, each request tagged ``metadata.key = ids.safe_custom_id(custom_id)``; the
batch ``displayName`` is the ``frugalflow_batch`` marker, so ``find_batch`` can adopt a
batch accepted before a crash by listing ``GET {base}/v1beta/batches``. The returned batch
id is the operation name (``batches/<id>``); polls are ``GET {base}/v1beta/{name}``.
``metadata.state`` is ``BATCH_STATE_PENDING|RUNNING`` (pending), ``SUCCEEDED`` (ended),
``EXPIRED`` (expired: the service keeps no results), ``FAILED|CANCELLED`` (failed).
Results are read from the batch's ``output.inlinedResponses.inlinedResponses`` and keyed
by ``metadata.key``; a line without a key cannot be attributed and is skipped (the caller
treats requests without a result per the batch state).

Errors: HTTP status -> ``ErrorCode`` via ``errors.code_for_status`` (429 RESOURCE_EXHAUSTED
rate limited, 503 UNAVAILABLE overloaded, 500 server error, 400 INVALID_ARGUMENT bad
request, 403 PERMISSION_DENIED auth, 404 not found), raised as ``ProviderError`` with the
retry delay from the ``retry-after(-ms)`` header or the body's
``google.rpc.RetryInfo.retryDelay``, which the shared retry policy honours.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from frugalflow.providers.base import (
    BATCH_MARKER,
    BatchPoll,
    BatchState,
    CachingStrategy,
    Capabilities,
    ChatRequest,
    ChatResult,
    ProviderError,
    Usage,
)
from frugalflow.providers.errors import (
    ErrorCode,
    RetryPolicy,
    call_with_retries,
    check_batch_requests,
    code_for_status,
    failure_result,
    is_retryable,
    parse_retry_after,
    retry_if_not_processed,
)
from frugalflow.providers.ids import safe_custom_id

# Request tiers the Gemini API bills apart (``serviceTier``; absent = standard).
SERVICE_TIERS = ("flex", "priority")

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
LIST_PAGE_SIZE = 100
MAX_LIST_PAGES = 50
BATCH_STATES = {
    "BATCH_STATE_UNSPECIFIED": BatchState.PENDING,
    "BATCH_STATE_PENDING": BatchState.PENDING,
    "BATCH_STATE_RUNNING": BatchState.PENDING,
    "BATCH_STATE_SUCCEEDED": BatchState.ENDED,
    "BATCH_STATE_EXPIRED": BatchState.EXPIRED,
    "BATCH_STATE_FAILED": BatchState.FAILED,
    "BATCH_STATE_CANCELLED": BatchState.FAILED,
}
RESULT_STATES = frozenset(
    {"BATCH_STATE_SUCCEEDED", "BATCH_STATE_EXPIRED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED"}
)
# google.rpc.Code of a per-request batch error -> our code.
GRPC_CODES = {
    1: ErrorCode.BATCH_CANCELED,  # CANCELLED
    3: ErrorCode.BAD_REQUEST,  # INVALID_ARGUMENT
    4: ErrorCode.TIMEOUT,  # DEADLINE_EXCEEDED
    5: ErrorCode.NOT_FOUND,
    7: ErrorCode.AUTH_ERROR,  # PERMISSION_DENIED
    8: ErrorCode.RATE_LIMITED,  # RESOURCE_EXHAUSTED
    9: ErrorCode.BAD_REQUEST,  # FAILED_PRECONDITION
    11: ErrorCode.BAD_REQUEST,  # OUT_OF_RANGE
    13: ErrorCode.SERVER_ERROR,  # INTERNAL
    14: ErrorCode.OVERLOADED,  # UNAVAILABLE
    16: ErrorCode.AUTH_ERROR,  # UNAUTHENTICATED
}
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_FRACTION_RE = re.compile(r"\.(\d{6})\d+")


def _retry_delay_ms(body: Any) -> int | None:
    """``error.details[RetryInfo].retryDelay`` ("1.5s") in milliseconds."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO_TYPE:
            match = _DURATION_RE.match(str(detail.get("retryDelay", "")))
            if match:
                return round(float(match.group(1)) * 1000)
    return None


def status_error(response: httpx.Response) -> ProviderError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = f"{error.get('status', response.status_code)}: {error.get('message', '')}"
    else:
        message = f"HTTP {response.status_code}: {response.text[:200]}"
    retry_after = parse_retry_after(response.headers)
    if retry_after is None:
        delay_ms = _retry_delay_ms(body)
        retry_after = None if delay_ms is None else delay_ms / 1000
    code = code_for_status(response.status_code)
    return ProviderError(
        code.value, message, retryable=is_retryable(code), retry_after_s=retry_after
    )


def gemini_usage(metadata: dict[str, Any] | None) -> Usage:
    """Normalize ``usageMetadata`` (prompt count includes cached; thoughts bill as output)."""
    if not metadata:
        return Usage()
    prompt = int(metadata.get("promptTokenCount") or 0)
    cached = int(metadata.get("cachedContentTokenCount") or 0)
    output = int(metadata.get("candidatesTokenCount") or 0)
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    return Usage(
        input_tokens=max(0, prompt - cached),
        output_tokens=output + thoughts,
        cache_write_tokens=0,
        cache_read_tokens=cached,
    )


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION_RE.sub(r".\1", value.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _model_id(model: str) -> str:
    return model.removeprefix("models/")


class GeminiAdapter:
    name = "gemini"
    # Batch Mode with inline requests: keep the whole create call under 20 MB.
    capabilities = Capabilities(
        batching=True,
        caching=CachingStrategy.AUTOMATIC,
        batch_max_requests=100_000,
        batch_max_bytes=20 * 1024 * 1024,
        min_cacheable_tokens=1024,  # 2.5 Flash; 2.5 Pro needs 2,048 (see the catalog)
        flex=True,
    )

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        *,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        root = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=f"{root}/{API_VERSION}/",
            headers={"x-goog-api-key": api_key},
            timeout=timeout_s,
        )
        self._retry = retry_policy or RetryPolicy()

    # --- transport -------------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            response = await self._client.request(method, path, json=body, params=params)
        except httpx.TimeoutException as exc:
            # Type names only: an httpx message may carry the request URL, and with it the key.
            raise ProviderError(
                ErrorCode.TIMEOUT, f"timeout: {type(exc).__name__}", retryable=True
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderError(
                ErrorCode.CONNECTION_ERROR,
                f"connection error: {type(exc).__name__}",
                retryable=True,
            ) from exc
        if response.status_code >= 400:
            raise status_error(response)
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderError(ErrorCode.PROVIDER_ERROR, "response is not JSON") from exc
        if not isinstance(data, dict):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, "response is not a JSON object")
        return data

    # --- request building ------------------------------------------------------------------

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The generateContent body for ``request`` (also each inline batch request)."""
        contents: list[dict[str, Any]] = []
        for message in request.messages:
            if message.role == "user":
                role = "user"
            elif message.role == "assistant":
                role = "model"
            else:
                raise ProviderError(
                    ErrorCode.BAD_REQUEST, f"unsupported message role {message.role!r}"
                )
            contents.append({"role": role, "parts": [{"text": message.content}]})
        config: dict[str, Any] = {"maxOutputTokens": request.max_tokens}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        body: dict[str, Any] = {"contents": contents, "generationConfig": config}
        if request.system is not None:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        if request.service_tier in SERVICE_TIERS:
            # Top level, as google-genai sends GenerateContentConfig.service_tier.
            body["serviceTier"] = request.service_tier
        return body

    # --- immediate -------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatResult:
        try:
            body = self.body(request)
            path = f"models/{_model_id(request.model)}:generateContent"
            data = await call_with_retries(lambda: self._call("POST", path, body=body), self._retry)
        except ProviderError as exc:
            return failure_result(request.custom_id, request.model, exc.code, exc.message)
        result = _response_result(request.custom_id, request.model, data)
        # generateContent does not say which tier served: a tier asked for either serves
        # the request or refuses it (429 / 503), so an answer was served in that tier.
        if result.ok and request.service_tier in SERVICE_TIERS:
            return replace(result, service_tier=request.service_tier)
        return result

    # --- batch -----------------------------------------------------------------------------

    async def submit_batch(self, requests: list[ChatRequest], metadata: dict[str, str]) -> str:
        check_batch_requests(requests)
        models = {_model_id(r.model) for r in requests}
        if len(models) != 1:
            raise ProviderError(ErrorCode.BAD_REQUEST, "a Gemini batch serves exactly one model")
        model = models.pop()
        inline = [
            {"request": self.body(r), "metadata": {"key": safe_custom_id(r.custom_id)}}
            for r in requests
        ]
        display_name = metadata.get(BATCH_MARKER) or "frugalflow-batch"
        body = {
            "batch": {
                "displayName": display_name,
                "inputConfig": {"requests": {"requests": inline}},
            }
        }
        size = len(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        if size > self.capabilities.batch_max_bytes:
            raise ProviderError(
                ErrorCode.BAD_REQUEST, f"inline batch is {size} bytes (limit 20 MB)"
            )
        operation = await call_with_retries(
            lambda: self._call("POST", f"models/{model}:batchGenerateContent", body=body),
            self._retry,
            retry_if=retry_if_not_processed,  # creating twice would bill twice
        )
        name = operation.get("name") or (operation.get("metadata") or {}).get("name")
        if not isinstance(name, str) or not name:
            raise ProviderError(ErrorCode.PROVIDER_ERROR, "batch create returned no name")
        return name

    async def _retrieve(self, batch_id: str) -> dict[str, Any]:
        operation = await call_with_retries(lambda: self._call("GET", batch_id), self._retry)
        batch = operation.get("metadata")
        return batch if isinstance(batch, dict) else {}

    async def find_batch(self, marker: str, created_after: float) -> str | None:
        """The newest batch named ``marker`` created at or after ``created_after``."""

        async def search() -> str | None:
            best: tuple[float, str] | None = None
            token: str | None = None
            for _ in range(MAX_LIST_PAGES):
                params: dict[str, Any] = {"pageSize": LIST_PAGE_SIZE}
                if token:
                    params["pageToken"] = token
                page = await self._call("GET", "batches", params=params)
                for operation in page.get("operations") or []:
                    batch = operation.get("metadata") or {}
                    created = _parse_time(batch.get("createTime"))
                    if batch.get("displayName") != marker or created is None:
                        continue
                    if created >= created_after and (best is None or created > best[0]):
                        best = (created, str(operation.get("name") or batch.get("name")))
                token = page.get("nextPageToken")
                if not token:
                    break
            return best[1] if best else None

        return await call_with_retries(search, self._retry)

    async def poll_batch(self, batch_id: str) -> BatchPoll:
        batch = await self._retrieve(batch_id)
        state = str(batch.get("state") or "BATCH_STATE_UNSPECIFIED")
        stats = batch.get("batchStats") or {}
        detail = f"state={state}" + "".join(
            f" {key}={stats[key]}"
            for key in (
                "requestCount",
                "successfulRequestCount",
                "failedRequestCount",
                "pendingRequestCount",
            )
            if key in stats
        )
        return BatchPoll(
            batch_id=batch_id, state=BATCH_STATES.get(state, BatchState.PENDING), detail=detail
        )

    async def batch_results(self, batch_id: str) -> list[ChatResult]:
        batch = await self._retrieve(batch_id)
        state = str(batch.get("state") or "BATCH_STATE_UNSPECIFIED")
        if state not in RESULT_STATES:
            raise ProviderError(
                ErrorCode.BATCH_NOT_ENDED, f"batch {batch_id} is {state}", retryable=True
            )
        model = _model_id(str(batch.get("model") or ""))
        output = batch.get("output") or {}
        lines = (output.get("inlinedResponses") or {}).get("inlinedResponses") or []
        results: list[ChatResult] = []
        for line in lines:
            key = (line.get("metadata") or {}).get("key")
            if isinstance(key, str) and key:
                results.append(_line_result(key, model, line))
        return results

    async def aclose(self) -> None:
        await self._client.aclose()


def _response_result(custom_id: str, model: str, data: dict[str, Any]) -> ChatResult:
    candidates = data.get("candidates") or []
    if not candidates:
        reason = (data.get("promptFeedback") or {}).get("blockReason", "no candidates")
        return failure_result(custom_id, model, ErrorCode.BAD_REQUEST, f"prompt blocked: {reason}")
    parts = (candidates[0].get("content") or {}).get("parts") or []
    text = "".join(str(p.get("text", "")) for p in parts if not p.get("thought"))
    return ChatResult(
        custom_id=custom_id,
        ok=True,
        model=model,
        content=text,
        usage=gemini_usage(data.get("usageMetadata")),
    )


def _line_result(custom_id: str, model: str, line: dict[str, Any]) -> ChatResult:
    error = line.get("error")
    if isinstance(error, dict):
        code = GRPC_CODES.get(int(error.get("code") or 0), ErrorCode.PROVIDER_ERROR)
        return failure_result(custom_id, model, code, str(error.get("message") or code))
    response = line.get("response")
    if not isinstance(response, dict):
        return failure_result(custom_id, model, ErrorCode.PROVIDER_ERROR, "empty batch line")
    return _response_result(custom_id, model, response)
