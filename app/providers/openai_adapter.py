"""OpenAI adapter: Chat Completions for immediate calls, Files + Batch for the batch path.

Uses the official ``openai.AsyncOpenAI`` with SDK retries disabled; retries follow
``errors.RetryPolicy``. Prompt caching is automatic at OpenAI; we add ``prompt_cache_key``
(``prompt_cache.openai_cache_key``: the sha256 of the system prompt, or else of the first
message of a conversation with history) so requests sharing that leading prefix, and the
successive turns of one conversation, are routed to the same cache.

Usage is normalized: ``input_tokens = prompt_tokens - cached_tokens``, cache reads are
``cached_tokens``, cache writes are 0 (OpenAI does not bill them separately).

Batch lines use ``ids.safe_custom_id(request.custom_id)`` (as for Anthropic, for
uniformity) and results report the safe id. ``batch_results`` reads the input file too, so
every submitted request gets an outcome: one missing from both the output and error file
is ``batch_expired`` (expired batch), ``batch_canceled`` (cancelled) or ``provider_error``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Final, Literal

import openai
from openai.types import Batch
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from frugalflow.costing.rates import Mode
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
    code_for_openai_batch_error,
    code_for_status,
    failure_result,
    retry_if_not_processed,
)
from frugalflow.providers.ids import safe_custom_id
from frugalflow.providers.prompt_cache import openai_cache_key

CHAT_ENDPOINT: Final[Literal["/v1/chat/completions"]] = "/v1/chat/completions"
BATCH_STATES = {
    "validating": BatchState.PENDING,
    "in_progress": BatchState.PENDING,
    "finalizing": BatchState.PENDING,
    "cancelling": BatchState.PENDING,
    "completed": BatchState.ENDED,
    "expired": BatchState.EXPIRED,
    "failed": BatchState.FAILED,
    "cancelled": BatchState.FAILED,
}
RESULT_STATUSES = frozenset({"completed", "expired", "cancelled", "failed"})


class OpenAIAdapter:
    name = "openai"
    # Batch API: 50,000 requests or a 200 MB input file per batch.
    capabilities = Capabilities(
        batching=True,
        caching=CachingStrategy.AUTOMATIC,
        batch_max_requests=50_000,
        batch_max_bytes=200 * 1024 * 1024,
        min_cacheable_tokens=1024,
        flex=True,
    )

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        *,
        retry_policy: RetryPolicy | None = None,
        use_prompt_cache_key: bool = True,
    ) -> None:
        # The SDK's aiohttp transport: about a third less CPU per call than its default
        # httpx stack (README, Performance), and the SDK is otherwise unchanged.
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )
        self._retry = retry_policy or RetryPolicy()
        self._use_prompt_cache_key = use_prompt_cache_key

    # --- request building ------------------------------------------------------------------

    def _messages(self, request: ChatRequest) -> list[ChatCompletionMessageParam]:
        messages: list[ChatCompletionMessageParam] = []
        if request.system is not None:
            messages.append({"role": "system", "content": request.system})
        for message in request.messages:
            if message.role == "user":
                messages.append({"role": "user", "content": message.content})
            elif message.role == "assistant":
                messages.append({"role": "assistant", "content": message.content})
            else:
                raise ProviderError(
                    ErrorCode.BAD_REQUEST, f"unsupported message role {message.role!r}"
                )
        return messages

    def _cache_key(self, request: ChatRequest) -> str | None:
        if self._use_prompt_cache_key:
            return openai_cache_key(request.system, request.messages)
        return None

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The Chat Completions body for ``request`` (used verbatim in batch input lines)."""
        body: dict[str, Any] = {
            "model": request.model,
            "messages": self._messages(request),
            "max_completion_tokens": request.max_tokens,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        cache_key = self._cache_key(request)
        if cache_key is not None:
            body["prompt_cache_key"] = cache_key
        return body

    # --- immediate -------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatResult:
        try:
            messages = self._messages(request)
            cache_key = self._cache_key(request)

            # The raw body, read as JSON, as for Anthropic (anthropic_adapter.py says why).
            async def call() -> bytes:
                response = await self._client.chat.completions.with_raw_response.create(
                    model=request.model,
                    messages=messages,
                    max_completion_tokens=request.max_tokens,
                    temperature=request.temperature
                    if request.temperature is not None
                    else openai.omit,
                    prompt_cache_key=cache_key if cache_key is not None else openai.omit,
                    service_tier=request.service_tier or openai.omit,  # type: ignore[arg-type]
                )
                return response.content  # read with the response (not streamed)

            body = json.loads(await call_with_retries(call, self._retry))
        except ProviderError as exc:
            return failure_result(request.custom_id, request.model, exc.code, exc.message)
        except ValueError as exc:  # not JSON: the same failure as any malformed answer
            code, why = ErrorCode.PROVIDER_ERROR, f"unreadable answer: {exc}"
            return failure_result(request.custom_id, request.model, code, why)
        return completion_result(request.custom_id, request.model, body)

    # --- batch -----------------------------------------------------------------------------

    async def submit_batch(self, requests: list[ChatRequest], metadata: dict[str, str]) -> str:
        check_batch_requests(requests)
        lines = [
            json.dumps(
                {
                    "custom_id": safe_custom_id(r.custom_id),
                    "method": "POST",
                    "url": CHAT_ENDPOINT,
                    "body": self.body(r),
                },
                separators=(",", ":"),
            )
            for r in requests
        ]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        # A duplicate upload only leaves an orphan file, so the upload retries freely.
        uploaded = await call_with_retries(
            lambda: self._client.files.create(
                file=("frugalflow-batch.jsonl", data, "application/jsonl"), purpose="batch"
            ),
            self._retry,
        )
        batch = await call_with_retries(
            lambda: self._client.batches.create(
                input_file_id=uploaded.id,
                endpoint=CHAT_ENDPOINT,
                completion_window="24h",
                metadata=metadata or None,
            ),
            self._retry,
            retry_if=retry_if_not_processed,  # creating twice would bill twice
        )
        return batch.id

    async def _retrieve(self, batch_id: str) -> Batch:
        return await call_with_retries(lambda: self._client.batches.retrieve(batch_id), self._retry)

    async def _file_lines(self, file_id: str | None) -> list[dict[str, Any]]:
        if not file_id:
            return []

        async def fetch() -> str:
            return (await self._client.files.content(file_id)).text

        text = await call_with_retries(fetch, self._retry)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    async def find_batch(self, marker: str, created_after: float) -> str | None:
        """Newest first; stop paging once batches are older than the submit attempt."""

        async def search() -> str | None:
            async for batch in self._client.batches.list(limit=100):
                if batch.created_at < created_after:
                    return None
                if (batch.metadata or {}).get(BATCH_MARKER) == marker:
                    return batch.id
            return None

        return await call_with_retries(search, self._retry)

    async def poll_batch(self, batch_id: str) -> BatchPoll:
        batch = await self._retrieve(batch_id)
        counts = batch.request_counts
        detail = f"status={batch.status}"
        if counts is not None:
            detail += f" total={counts.total} completed={counts.completed} failed={counts.failed}"
        if batch.errors and batch.errors.data:
            detail += " errors=" + "; ".join(
                f"line {e.line}: {e.code}: {e.message}" for e in batch.errors.data
            )
        state = BATCH_STATES.get(batch.status, BatchState.PENDING)
        return BatchPoll(batch_id=batch.id, state=state, detail=detail)

    async def batch_results(self, batch_id: str) -> list[ChatResult]:
        batch = await self._retrieve(batch_id)
        if batch.status not in RESULT_STATUSES:
            raise ProviderError(
                ErrorCode.BATCH_NOT_ENDED, f"batch {batch_id} is {batch.status}", retryable=True
            )
        inputs = await self._file_lines(batch.input_file_id)
        outputs = {line["custom_id"]: line for line in await self._file_lines(batch.output_file_id)}
        errors = {line["custom_id"]: line for line in await self._file_lines(batch.error_file_id)}

        results: list[ChatResult] = []
        seen: set[str] = set()
        for entry in inputs:
            custom_id = str(entry.get("custom_id"))
            model = str((entry.get("body") or {}).get("model", ""))
            seen.add(custom_id)
            if custom_id in outputs:
                results.append(_output_result(outputs[custom_id], model))
            elif custom_id in errors:
                results.append(_error_result(errors[custom_id], model))
            else:
                results.append(_missing_result(custom_id, model, batch.status))
        # Lines for ids not in the input should not exist; never drop them silently.
        for custom_id, line in outputs.items():
            if custom_id not in seen:
                results.append(_output_result(line, ""))
        for custom_id, line in errors.items():
            if custom_id not in seen and custom_id not in outputs:
                results.append(_error_result(line, ""))
        return results

    async def aclose(self) -> None:
        await self._client.close()


def chat_completion_text(completion: ChatCompletion) -> str:
    if not completion.choices:
        return ""
    return completion.choices[0].message.content or ""


def chat_usage(usage: Any) -> Usage:
    """From a ``CompletionUsage`` model or its JSON dict (batch output lines)."""
    if usage is None:
        return Usage()
    if not isinstance(usage, dict):
        usage = usage.model_dump()
    prompt = int(usage.get("prompt_tokens") or 0)
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    return Usage(
        input_tokens=prompt - cached,
        output_tokens=int(usage.get("completion_tokens") or 0),
        cache_write_tokens=0,
        cache_read_tokens=cached,
    )


def billed_mode(service_tier: str | None) -> Mode:
    """The catalog mode of the ``service_tier`` a response says served it.

    ``flex`` and ``priority`` bill at their own prices; ``default``, ``auto`` (answered as
    what actually served), ``scale`` (prepaid capacity, not per token) and none: standard.
    """
    if service_tier == "flex":
        return "flex"
    if service_tier == "priority":
        return "priority"
    return "standard"


def completion_result(custom_id: str, model: str, body: dict[str, Any]) -> ChatResult:
    """A Chat Completions answer from its JSON body, with the tier that billed it."""
    result = body_result(custom_id, model, body)
    return replace(result, service_tier=billed_mode(body.get("service_tier")))


def body_result(custom_id: str, model: str, body: dict[str, Any]) -> ChatResult:
    """A Chat Completions body (an immediate answer, or a batch output line's) as a result."""
    choices = body.get("choices") or [{}]
    content = (choices[0].get("message") or {}).get("content") or ""
    return chat_success(
        custom_id, body.get("model") or model, content, chat_usage(body.get("usage"))
    )


def chat_success(custom_id: str, model: str, content: str, usage: Usage) -> ChatResult:
    return ChatResult(custom_id=custom_id, ok=True, model=model, content=content, usage=usage)


def _output_result(line: dict[str, Any], model: str) -> ChatResult:
    response = line.get("response") or {}
    status = int(response.get("status_code") or 0)
    body = response.get("body") or {}
    if status != 200:
        return _error_result(line, model)
    return body_result(line["custom_id"], model, body)


def _error_result(line: dict[str, Any], model: str) -> ChatResult:
    custom_id = str(line.get("custom_id"))
    error = line.get("error")
    if error:  # batch-level fate: expired, cancelled, ...
        code = code_for_openai_batch_error(error.get("code"))
        return failure_result(
            custom_id, model, code, str(error.get("message") or error.get("code"))
        )
    response = line.get("response") or {}
    status = int(response.get("status_code") or 0)
    body_error = (response.get("body") or {}).get("error") or {}
    message = str(body_error.get("message") or f"HTTP {status}")
    return failure_result(custom_id, model, code_for_status(status), message)


def _missing_result(custom_id: str, model: str, status: str) -> ChatResult:
    if status == "expired":
        return failure_result(
            custom_id, model, ErrorCode.BATCH_EXPIRED, "batch expired before this request ran"
        )
    if status == "cancelled":
        return failure_result(custom_id, model, ErrorCode.BATCH_CANCELED, "batch was cancelled")
    if status == "failed":
        return failure_result(custom_id, model, ErrorCode.BATCH_FAILED, "batch failed validation")
    return failure_result(
        custom_id, model, ErrorCode.PROVIDER_ERROR, "missing from the batch output"
    )
