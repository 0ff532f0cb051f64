"""One bounded provider call for an admitted request, shared by the immediate path, the
flex path and the fallback chain. It never raises: a timeout, or a bug in an adapter,
becomes a failed ``ChatResult`` with a stable code."""

from __future__ import annotations

import asyncio

from frugalflow.costing.rates import Mode
from frugalflow.dispatch.requests import to_chat_request
from frugalflow.events import Admitted
from frugalflow.pipeline import Pipeline, log
from frugalflow.providers.base import ChatResult
from frugalflow.providers.circuit import CIRCUIT_OPEN
from frugalflow.providers.errors import is_retryable


async def call_provider(
    p: Pipeline,
    admitted: Admitted,
    *,
    service_tier: Mode | None = None,
    timeout_s: float | None = None,
) -> ChatResult:
    """One bounded call to the admitted request's provider; never raises."""
    adapter = p.providers.get(admitted.provider)
    request = to_chat_request(admitted, service_tier)
    # The adapter has its own per-call timeout; this bound also covers its retries, and
    # stays under the rebalance timeout so a rebalance never waits on a hung call.
    bound = p.settings.provider_timeout_s * 2.5
    try:
        return await asyncio.wait_for(
            adapter.complete(request), timeout=min(bound, timeout_s or bound)
        )
    except TimeoutError:
        return failure(admitted, "provider_timeout", "the provider did not answer in time")
    except Exception as exc:  # a bug must cost one answer, never the agent
        log.exception("immediate call crashed for %s", admitted.request.request_id)
        return failure(admitted, "internal_error", f"internal error: {type(exc).__name__}")


def failure(admitted: Admitted, code: str, message: str) -> ChatResult:
    return ChatResult(
        custom_id=admitted.request.request_id, ok=False, model=admitted.model,
        error_code=code, error_message=message,
        retryable=code == CIRCUIT_OPEN or is_retryable(code),
    )  # fmt: skip
