"""Admitted request → provider-neutral ``ChatRequest``, and the deadline rule for retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from frugalflow.costing.rates import Mode
from frugalflow.events import Admitted
from frugalflow.providers.base import ChatMessage, ChatRequest


def to_chat_request(admitted: Admitted, service_tier: Mode | None = None) -> ChatRequest:
    request = admitted.request
    return ChatRequest(
        custom_id=request.request_id,  # adapters submit safe_custom_id() of it to batch APIs
        model=admitted.model,
        messages=tuple(ChatMessage(role=m.role, content=m.content) for m in request.messages),
        max_tokens=request.max_tokens,
        system=request.system,
        temperature=request.temperature,
        service_tier=service_tier,
    )


def seconds_left(admitted: Admitted, now: datetime) -> float | None:
    """Seconds until the request's deadline (negative once past); None without one."""
    request = admitted.request
    if request.deadline_s is None:
        return None
    start = request.created_at or admitted.admitted_at
    if start.tzinfo is None:
        start = start.replace(tzinfo=now.tzinfo)
    return (start + timedelta(seconds=request.deadline_s) - now).total_seconds()


def deadline_allows_immediate(admitted: Admitted, now: datetime, call_timeout_s: float) -> bool:
    """Can a failed batch request still be answered in time by an immediate call?"""
    left = seconds_left(admitted, now)
    return left is None or call_timeout_s <= left
