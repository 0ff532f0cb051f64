"""Stable provider error codes, SDK-exception classification, and the adapters' retry loop.

Codes are part of FrugalFlow's contract (results, metrics, dead letters); SDK exception
classes are not. Retryable: rate limits, overload, 5xx, timeouts and connection errors.

The retry loop (``call_with_retries``) is deliberately small: up to ``max_retries`` extra
attempts with capped exponential backoff and jitter, except that a server-provided
``retry-after`` (or ``retry-after-ms``) is honored instead of the backoff. A retry-after
longer than ``max_retry_after_s`` ends the attempts: retrying sooner would only be refused.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import TypeVar

import aiohttp
import anthropic
import openai

from frugalflow.providers.base import ChatRequest, ChatResult, ProviderError

T = TypeVar("T")


class ErrorCode(StrEnum):
    RATE_LIMITED = "provider_rate_limited"  # 429
    OVERLOADED = "provider_overloaded"  # 529 / 503
    SERVER_ERROR = "provider_server_error"  # other 5xx
    TIMEOUT = "provider_timeout"  # client-side timeout, 408
    CONNECTION_ERROR = "provider_connection_error"
    BAD_REQUEST = "provider_bad_request"  # 400 / 413 / 422
    AUTH_ERROR = "provider_auth_error"  # 401 / 403
    BILLING = "provider_billing_error"  # 402: out of credit (the circuit breaker trips on it)
    NOT_FOUND = "provider_not_found"  # 404
    PROVIDER_ERROR = "provider_error"  # anything else
    # Per-request batch outcomes (the request itself never ran, so resubmitting is fine).
    BATCH_CANCELED = "batch_canceled"
    BATCH_EXPIRED = "batch_expired"
    BATCH_FAILED = "batch_failed"  # the whole batch was rejected (e.g. invalid input file)
    BATCH_NOT_ENDED = "batch_not_ended"  # results asked for before the batch ended


RETRYABLE_CODES = frozenset(
    {
        ErrorCode.RATE_LIMITED,
        ErrorCode.OVERLOADED,
        ErrorCode.SERVER_ERROR,
        ErrorCode.TIMEOUT,
        ErrorCode.CONNECTION_ERROR,
        ErrorCode.BATCH_CANCELED,
        ErrorCode.BATCH_EXPIRED,
        ErrorCode.BATCH_NOT_ENDED,
    }
)
# Rejections that guarantee the request was not acted on: safe to resend even a
# non-idempotent call such as "create batch".
NOT_PROCESSED_CODES = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.OVERLOADED})

ANTHROPIC_ERROR_TYPES = {
    "invalid_request_error": ErrorCode.BAD_REQUEST,
    "request_too_large": ErrorCode.BAD_REQUEST,
    "authentication_error": ErrorCode.AUTH_ERROR,
    "permission_error": ErrorCode.AUTH_ERROR,
    "billing_error": ErrorCode.BILLING,
    "not_found_error": ErrorCode.NOT_FOUND,
    "rate_limit_error": ErrorCode.RATE_LIMITED,
    "api_error": ErrorCode.SERVER_ERROR,
    "overloaded_error": ErrorCode.OVERLOADED,
    "timeout_error": ErrorCode.TIMEOUT,
}
OPENAI_BATCH_ERROR_CODES = {
    "batch_expired": ErrorCode.BATCH_EXPIRED,
    "batch_cancelled": ErrorCode.BATCH_CANCELED,
    "rate_limit_exceeded": ErrorCode.RATE_LIMITED,
}


def is_retryable(code: str) -> bool:
    return code in RETRYABLE_CODES


def failure_result(custom_id: str, model: str, code: str, message: str) -> ChatResult:
    """A failed :class:`ChatResult`; ``retryable`` follows ``code``."""
    return ChatResult(
        custom_id=custom_id,
        ok=False,
        model=model,
        error_code=str(code),
        error_message=message,
        retryable=is_retryable(code),
    )


def check_batch_requests(requests: list[ChatRequest]) -> None:
    """Reject an empty batch or one that repeats a ``custom_id`` (BAD_REQUEST)."""
    if not requests:
        raise ProviderError(ErrorCode.BAD_REQUEST, "a batch needs at least one request")
    ids = [r.custom_id for r in requests]
    if len(set(ids)) != len(ids):
        raise ProviderError(ErrorCode.BAD_REQUEST, "duplicate custom_id in batch")


def code_for_status(status: int) -> ErrorCode:
    if status == 429:
        return ErrorCode.RATE_LIMITED
    if status in (503, 529):
        return ErrorCode.OVERLOADED
    if status == 408:
        return ErrorCode.TIMEOUT
    if status >= 500:
        return ErrorCode.SERVER_ERROR
    if status in (400, 413, 422):
        return ErrorCode.BAD_REQUEST
    if status in (401, 403):
        return ErrorCode.AUTH_ERROR
    if status == 402:
        return ErrorCode.BILLING
    if status == 404:
        return ErrorCode.NOT_FOUND
    return ErrorCode.PROVIDER_ERROR


def code_for_anthropic_error_type(error_type: str | None) -> ErrorCode:
    return ANTHROPIC_ERROR_TYPES.get(error_type or "", ErrorCode.PROVIDER_ERROR)


def code_for_openai_batch_error(code: str | None) -> ErrorCode:
    return OPENAI_BATCH_ERROR_CODES.get(code or "", ErrorCode.PROVIDER_ERROR)


@dataclass(frozen=True, slots=True)
class ClassifiedError:
    code: ErrorCode
    message: str
    status: int | None = None
    retry_after_s: float | None = None

    @property
    def retryable(self) -> bool:
        return is_retryable(self.code)

    def to_provider_error(self) -> ProviderError:
        return ProviderError(self.code.value, self.message, retryable=self.retryable)


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def classify_exception(exc: BaseException) -> ClassifiedError:
    """Map an SDK exception (either SDK) to a stable code."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, anthropic.APITimeoutError | openai.APITimeoutError):
        if _lost_connection(exc):
            return ClassifiedError(ErrorCode.CONNECTION_ERROR, message)
        return ClassifiedError(ErrorCode.TIMEOUT, message)
    if isinstance(exc, anthropic.APIConnectionError | openai.APIConnectionError):
        return ClassifiedError(ErrorCode.CONNECTION_ERROR, message)
    if isinstance(exc, anthropic.APIStatusError | openai.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers)
        return ClassifiedError(code_for_status(status), message, status, retry_after)
    if isinstance(exc, asyncio.TimeoutError):
        return ClassifiedError(ErrorCode.TIMEOUT, message)
    if isinstance(exc, ProviderError):
        known = {c.value for c in ErrorCode}
        code = ErrorCode(exc.code) if exc.code in known else ErrorCode.PROVIDER_ERROR
        return ClassifiedError(code, exc.message, retry_after_s=exc.retry_after_s)
    return ClassifiedError(ErrorCode.PROVIDER_ERROR, message)


def _lost_connection(exc: BaseException) -> bool:
    """A refused or dropped connection that the SDKs' aiohttp transport reports as a timeout.

    Its exception map turns every ``aiohttp.ClientConnectionError`` into
    ``httpx.ConnectTimeout``; the aiohttp error is still the cause, and only its timeout
    kinds are timeouts.
    """
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ServerTimeoutError | aiohttp.SocketTimeoutError):
            return False
        if isinstance(cause, aiohttp.ClientConnectionError):
            return True
        cause = cause.__cause__
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Retries after the first attempt; delays in seconds."""

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    jitter: float = 0.2  # fraction of the backoff randomly removed (0 = none)
    max_retry_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff_s(self, retry_number: int) -> float:
        """Delay before retry ``retry_number`` (1-based) when the server gave no retry-after."""
        capped = min(self.max_delay_s, self.base_delay_s * 2 ** (retry_number - 1))
        return capped * (1.0 - self.jitter * self.rng.random())

    def delay_s(self, retry_number: int, error: ClassifiedError) -> float | None:
        """How long to wait before the next attempt, or None to stop retrying."""
        if not error.retryable or retry_number > self.max_retries:
            return None
        if error.retry_after_s is not None:
            if error.retry_after_s > self.max_retry_after_s:
                return None
            return error.retry_after_s
        return self.backoff_s(retry_number)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retry_if: Callable[[ClassifiedError], bool] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``await call()`` with retries; raises ``ProviderError`` with a stable code at the end.

    ``retry_if`` narrows which retryable errors are retried (e.g. only NOT_PROCESSED_CODES
    for non-idempotent calls).
    """
    retry_number = 0
    while True:
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = classify_exception(exc)
            retry_number += 1
            delay = policy.delay_s(retry_number, error)
            if delay is None or (retry_if is not None and not retry_if(error)):
                raise error.to_provider_error() from exc
            await sleep(delay)


def retry_if_not_processed(error: ClassifiedError) -> bool:
    return error.code in NOT_PROCESSED_CODES
