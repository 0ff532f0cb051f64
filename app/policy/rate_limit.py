"""Per-tenant rate limits: requests and tokens per minute, over a sliding window.

The window is the usual two-bucket approximation (as in nginx / Cloudflare): the count
of the previous minute weighted by how much of it still lies inside the last 60 s, plus
the current minute's count. It never lets a burst at a minute boundary double the rate,
and it needs two counters per tenant instead of a timestamp per request.

Counters live in a Faust table (``rate-windows``) keyed ``<len>:tenant␟minute``; writing
a minute's counter deletes the one from two minutes before, so the table stays small.
Tokens are what a request may use: estimated input tokens + ``max_tokens``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from frugalflow.policy.models import RateLimits

SEP = "\x1f"
WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class Limited:
    code: str  # rate_limited_requests | rate_limited_tokens
    message: str
    retry_after_s: int


def _key(tenant: str, minute: int) -> str:
    return f"{len(tenant)}:{tenant}{SEP}{minute}"


class RateWindows:
    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self._table = table

    def _count(self, tenant: str, minute: int) -> tuple[int, int]:
        raw = self._table.get(_key(tenant, minute))
        return (int(raw[0]), int(raw[1])) if raw else (0, 0)

    def check_and_count(
        self, tenant: str, tokens: int, limits: RateLimits, now_s: float
    ) -> Limited | None:
        """Count the request if it fits both limits; else say which limit it hits."""
        rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
        minute = int(now_s // WINDOW_S)
        if rpm is None and tpm is None:
            return None
        weight = 1 - (now_s - minute * WINDOW_S) / WINDOW_S  # share of last minute still in window
        prev_requests, prev_tokens = self._count(tenant, minute - 1)
        requests, used_tokens = self._count(tenant, minute)
        retry_after = max(1, int((minute + 1) * WINDOW_S - now_s))
        if rpm is not None and prev_requests * weight + requests + 1 > rpm:
            return Limited("rate_limited_requests", f"over {rpm} requests per minute", retry_after)
        if tpm is not None and prev_tokens * weight + used_tokens + tokens > tpm:
            if tokens > tpm:
                return Limited(
                    "rate_limited_tokens",
                    f"this request may use {tokens} tokens; the limit is {tpm} per minute",
                    retry_after,
                )
            return Limited("rate_limited_tokens", f"over {tpm} tokens per minute", retry_after)
        self._table[_key(tenant, minute)] = [requests + 1, used_tokens + tokens]
        self._table.pop(_key(tenant, minute - 2), None)
        return None
