"""Anthropic adapter: Messages for immediate calls, Message Batches for the batch path.

Uses the official ``anthropic.AsyncAnthropic`` with SDK retries disabled; retries follow
``errors.RetryPolicy``. Prompt-cache breakpoints (``cache_control``) are placed by
``prompt_cache.place_breakpoints`` on the stable prefix (the system prompt, then the
conversation history) wherever it is long enough to be cacheable, so repeats are billed as
cache reads; batch requests use a 1-hour TTL when ``batch_cache_ttl_1h`` is set.

Batch ``custom_id``s are ``ids.safe_custom_id(request.custom_id)`` and results report them
as such (Anthropic requires ``^[a-zA-Z0-9_-]{1,64}$``). Anthropic batches carry no metadata,
so ``submit_batch``'s ``metadata`` is not sent, nor is ``ChatRequest.temperature`` (API
version 2026-10-21, used by SDK 2.x, rejects sampling parameters). Result lines other than
``succeeded`` carry no model, so their ``ChatResult.model`` is ``""``.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
from anthropic.types import Message, MessageParam, TextBlockParam
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages import MessageBatch
from anthropic.types.messages.batch_create_params import Request as BatchRequestParam

from frugalflow.providers import prompt_cache
from frugalflow.providers.base import (
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
    code_for_anthropic_error_type,
    failure_result,
    retry_if_not_processed,
)
from frugalflow.providers.ids import safe_custom_id


class AnthropicAdapter:
    name = "anthropic"
    # Message Batches: 100,000 requests or 256 MB per batch.
    capabilities = Capabilities(
        batching=True,
        caching=CachingStrategy.EXPLICIT,
        batch_max_requests=100_000,
        batch_max_bytes=256 * 1024 * 1024,
        min_cacheable_tokens=1024,
    )

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        *,
        retry_policy: RetryPolicy | None = None,
        min_cacheable_tokens: int = 1024,
        batch_cache_ttl_1h: bool = prompt_cache.BATCH_CACHE_TTL_1H,
    ) -> None:
        # The SDK's aiohttp transport: about 40 % less CPU per call than its default httpx
        # stack (README, Performance), and the SDK is otherwise unchanged.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,
            http_client=anthropic.DefaultAioHttpClient(),
        )
        self._retry = retry_policy or RetryPolicy()
        self._min_cacheable_tokens = min_cacheable_tokens  # for models not in the catalog
        self._batch_cache_ttl_1h = batch_cache_ttl_1h

    # --- request building ------------------------------------------------------------------

    def params(
        self, request: ChatRequest, *, batch: bool = False
    ) -> MessageCreateParamsNonStreaming:
        """The Messages API params for ``request`` (shared by immediate and batch calls)."""
        minimum = prompt_cache.min_cacheable_tokens(request.model, self._min_cacheable_tokens)
        marks = prompt_cache.place_breakpoints(request.system, request.messages, minimum)
        control = prompt_cache.cache_control(ttl_1h=batch and self._batch_cache_ttl_1h)
        messages: list[MessageParam] = []
        for index, message in enumerate(request.messages):
            if message.role not in ("user", "assistant"):
                raise ProviderError(
                    ErrorCode.BAD_REQUEST, f"unsupported message role {message.role!r}"
                )
            content: str | list[TextBlockParam] = message.content
            if index in marks.messages:
                content = [{"type": "text", "text": message.content, "cache_control": control}]
            if message.role == "user":
                messages.append({"role": "user", "content": content})
            else:
                messages.append({"role": "assistant", "content": content})
        params: MessageCreateParamsNonStreaming = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": messages,
        }
        if request.system is not None and marks.system:
            params["system"] = [{"type": "text", "text": request.system, "cache_control": control}]
        elif request.system is not None:
            params["system"] = request.system
        # ``request.temperature`` is deliberately not sent: SDK 2.x speaks API version
        # 2026-10-21, which rejects every sampling parameter with a 400.
        return params

    # --- immediate -------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatResult:
        try:
            params = self.params(request)

            # The raw body, read as JSON: the SDK's typed ``Message`` is built field by field
            # in Python, about a fifth of the SDK call's CPU in the immediate-path profile.
            # The SDK still builds, sends, retries and raises on an error status as always.
            async def call() -> bytes:
                response = await self._client.messages.with_raw_response.create(**params)
                return await response.read()

            body = json.loads(await call_with_retries(call, self._retry))
        except ProviderError as exc:
            return failure_result(request.custom_id, request.model, exc.code, exc.message)
        except ValueError as exc:  # not JSON: the same failure as any malformed answer
            code, why = ErrorCode.PROVIDER_ERROR, f"unreadable answer: {exc}"
            return failure_result(request.custom_id, request.model, code, why)
        return _body_success(request.custom_id, body)

    # --- batch -----------------------------------------------------------------------------

    async def submit_batch(self, requests: list[ChatRequest], metadata: dict[str, str]) -> str:
        check_batch_requests(requests)
        batch_requests: list[BatchRequestParam] = [
            {"custom_id": safe_custom_id(r.custom_id), "params": self.params(r, batch=True)}
            for r in requests
        ]
        batch = await call_with_retries(
            lambda: self._client.messages.batches.create(requests=batch_requests),
            self._retry,
            retry_if=retry_if_not_processed,  # creating twice would bill twice
        )
        return batch.id

    async def _retrieve(self, batch_id: str) -> MessageBatch:
        return await call_with_retries(
            lambda: self._client.messages.batches.retrieve(batch_id), self._retry
        )

    async def find_batch(self, marker: str, created_after: float) -> str | None:
        """Message Batches carry no metadata, so an accepted batch cannot be recognised."""
        return None

    async def poll_batch(self, batch_id: str) -> BatchPoll:
        batch = await self._retrieve(batch_id)
        counts = batch.request_counts
        detail = (
            f"processing_status={batch.processing_status} processing={counts.processing} "
            f"succeeded={counts.succeeded} errored={counts.errored} "
            f"canceled={counts.canceled} expired={counts.expired}"
        )
        # "ended" covers every terminal case (all lines expired or canceled included): the
        # per-line outcomes tell them apart.
        state = BatchState.ENDED if batch.processing_status == "ended" else BatchState.PENDING
        return BatchPoll(batch_id=batch.id, state=state, detail=detail)

    async def batch_results(self, batch_id: str) -> list[ChatResult]:
        batch = await self._retrieve(batch_id)
        if batch.processing_status != "ended":
            raise ProviderError(
                ErrorCode.BATCH_NOT_ENDED,
                f"batch {batch_id} is {batch.processing_status}",
                retryable=True,
            )

        # The raw JSONL, each line read as JSON: the SDK's typed lines are built field by
        # field in Python (``construct_type``), about 5 % of the batch path's CPU in a
        # sampling profile. The SDK still finds the results URL, sends, retries and raises.
        async def fetch() -> bytes:
            response = await self._client.messages.batches.with_raw_response.results(batch_id)
            return await response.read()

        body = await call_with_retries(fetch, self._retry)
        return [_line_result(_json_line(line, batch_id)) for line in body.splitlines() if line]

    async def aclose(self) -> None:
        await self._client.close()


def message_usage(message: Message) -> Usage:
    """Normalized usage of a Messages API response (also read by the client's track_cost)."""
    return body_usage(message.usage.model_dump())


def body_usage(usage: dict[str, Any]) -> Usage:
    """The ``usage`` object of a Messages API answer (JSON), normalized."""
    split = usage.get("cache_creation") or {}  # 5-minute / 1-hour breakdown of writes
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0),
        cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
        cache_write_1h_tokens=int(split.get("ephemeral_1h_input_tokens") or 0),
    )


def _body_success(custom_id: str, body: dict[str, Any]) -> ChatResult:
    """A Messages API answer from its JSON body: the immediate call reads it raw."""
    return ChatResult(
        custom_id=custom_id,
        ok=True,
        model=body.get("model") or "",
        content="".join(
            b.get("text", "") for b in body.get("content") or [] if b.get("type") == "text"
        ),
        usage=body_usage(body.get("usage") or {}),
    )


def _json_line(line: bytes, batch_id: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as exc:  # the same failure as any malformed answer; polled again later
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR, f"unreadable results line of batch {batch_id}: {exc}",
            retryable=True,
        ) from exc  # fmt: skip
    if not isinstance(value, dict):
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR, f"results line of batch {batch_id} is not an object",
            retryable=True,
        )  # fmt: skip
    return value


def _line_result(line: dict[str, Any]) -> ChatResult:
    """One line of a batch's results (``MessageBatchIndividualResponse``, as JSON)."""
    custom_id = str(line.get("custom_id") or "")
    result = line.get("result")
    result = result if isinstance(result, dict) else {}
    kind = result.get("type")
    if kind == "succeeded":
        return _body_success(custom_id, result.get("message") or {})
    if kind == "errored":
        error = (result.get("error") or {}).get("error") or {}
        code = code_for_anthropic_error_type(error.get("type"))
        return failure_result(custom_id, "", code, str(error.get("message") or ""))
    if kind == "canceled":
        return failure_result(custom_id, "", ErrorCode.BATCH_CANCELED, "batch was canceled")
    if kind == "expired":
        return failure_result(custom_id, "", ErrorCode.BATCH_EXPIRED, "batch expired")
    # a result type newer than this adapter knows
    return failure_result(custom_id, "", ErrorCode.PROVIDER_ERROR, f"unknown result type {kind}")
