"""The flex path: the real-time API's flex tier, retried while it refuses, then standard.

The flex tier (OpenAI's ``service_tier: "flex"``) bills about the batch price on the
real-time API, answers more slowly, and refuses with "resource unavailable" (HTTP 429)
when it lacks capacity. Intake sends a request here when its caller can wait minutes but
not the hours of a batch. It is tried on the flex tier for up to ``flex_wait_s`` — never
so long that a standard call could no longer answer before the request's deadline —
retried with capped backoff after a refusal or an overload; then the immediate path
sends it to the standard tier, so it is still answered in time.

An answer bills in the tier the provider says served it (``ChatResult.service_tier``):
``path: flex`` with the ``flex`` lever when the flex tier answered, ``path: immediate``
with the reason in ``route_reason`` when the standard tier did.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from frugalflow.costing.rates import Mode
from frugalflow.dispatch.requests import seconds_left
from frugalflow.events import Admitted
from frugalflow.providers.base import ChatResult
from frugalflow.providers.errors import ErrorCode

# A refusal for capacity or an overload: the flex tier may take it later.
RETRY_CODES = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.OVERLOADED, ErrorCode.TIMEOUT})
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0

Call = Callable[[Admitted, Mode | None, float], Awaitable[ChatResult]]


@dataclass(frozen=True, slots=True)
class FlexOutcome:
    result: ChatResult | None  # the flex tier's answer, None when it never answered
    attempts: int
    why_standard: str = ""  # set when the request must go to the standard tier


def flex_budget_s(admitted: Admitted, now: datetime, wait_s: float, standard_s: float) -> float:
    """How long the flex tier may take: ``wait_s``, less whatever the deadline needs kept
    for a standard call (``standard_s``) after it."""
    left = seconds_left(admitted, now)
    return wait_s if left is None else max(0.0, min(wait_s, left - standard_s))


async def try_flex(admitted: Admitted, call: Call, budget_s: float) -> FlexOutcome:
    """Call the flex tier until it answers, fails for good, or ``budget_s`` runs out."""
    ends = time.monotonic() + budget_s
    backoff, attempts = FIRST_BACKOFF_S, 0
    seen: Counter[str] = Counter()  # error codes, in the order first seen
    while (remaining := ends - time.monotonic()) > 0:
        attempts += 1
        result = await call(admitted, "flex", remaining)
        if result.ok:
            return FlexOutcome(result, attempts)
        seen[result.error_code or "provider_error"] += 1
        if result.error_code not in RETRY_CODES:
            break
        await asyncio.sleep(min(backoff, max(0.0, ends - time.monotonic())))
        backoff = min(backoff * 2, MAX_BACKOFF_S)
    if not seen:
        why = "no time left on the flex tier before the deadline"
    else:
        codes = ", ".join(f"{code} x{n}" for code, n in seen.items())
        why = f"flex tier unavailable ({codes})"
    return FlexOutcome(None, attempts, f"{why}: served on the standard tier")
