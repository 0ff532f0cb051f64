"""The immediate path: concurrent provider calls, one actor per concurrent request.

Several actors share ``llm.admitted`` (``concurrency``); each event is acked after its
answer is published, so a crash re-runs at most the calls in flight.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.dispatch.answers import from_result
from app.dispatch.requests import to_chat_request
from app.events import Admitted, Path
from app.pipeline import Pipeline, log
from app.providers.base import ChatResult


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics.admitted, name="immediate", concurrency=p.settings.immediate_concurrency)
    async def immediate(stream: Any) -> Any:
        async for event in stream.events():
            admitted = await p.parse_internal(Admitted, event.message)
            if admitted is not None and admitted.path == "immediate":
                await answer_immediately(p, admitted)


async def answer_immediately(p: Pipeline, admitted: Admitted) -> None:
    adapter = p.providers.get(admitted.provider)
    request = to_chat_request(admitted)
    try:
        # The adapter has its own per-call timeout; this bound also covers its retries, and
        # stays under the rebalance timeout so a rebalance never waits on a hung call.
        result = await asyncio.wait_for(
            adapter.complete(request), timeout=p.settings.provider_timeout_s * 2.5
        )
    except TimeoutError:
        result = _failure(admitted, "provider_timeout", "the provider did not answer in time")
    except Exception as exc:  # a bug must cost one answer, never the agent
        log.exception("immediate call crashed for %s", admitted.request.request_id)
        result = _failure(admitted, "internal_error", f"internal error: {type(exc).__name__}")
    if not result.ok:
        log.warning(
            "immediate call failed for %s: %s", admitted.request.request_id, result.error_code
        )
    await p.publish_answer(from_result(admitted, result, Path.IMMEDIATE))


def _failure(admitted: Admitted, code: str, message: str) -> ChatResult:
    return ChatResult(
        custom_id=admitted.request.request_id, ok=False, model=admitted.model,
        error_code=code, error_message=message,
    )  # fmt: skip
