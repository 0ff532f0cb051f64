"""Requests and tokens per minute over a sliding window."""

from __future__ import annotations

from typing import Any

from frugalflow.policy.models import RateLimits
from frugalflow.policy.rate_limit import RateWindows

T0 = 1_800_000_000.0  # a minute boundary (divisible by 60)


def test_no_limits_counts_nothing() -> None:
    table: dict[str, Any] = {}
    assert RateWindows(table).check_and_count("t", 10, RateLimits(), T0) is None
    assert table == {}


def test_requests_per_minute_rejects_the_one_over() -> None:
    windows = RateWindows({})
    limits = RateLimits(requests_per_minute=3)
    assert [windows.check_and_count("t", 1, limits, T0 + i) for i in range(3)] == [None] * 3
    limited = windows.check_and_count("t", 1, limits, T0 + 3)
    assert limited is not None and limited.code == "rate_limited_requests"
    assert 1 <= limited.retry_after_s <= 60
    assert windows.check_and_count("other", 1, limits, T0 + 3) is None  # per tenant


def test_sliding_window_weights_the_previous_minute() -> None:
    windows = RateWindows({})
    limits = RateLimits(requests_per_minute=10)
    for i in range(10):
        assert windows.check_and_count("t", 1, limits, T0 + 50 + i * 0.1) is None
    # 15 s into the next minute, 75 % of the previous 10 still count: 2 more fit, not 10.
    allowed = [windows.check_and_count("t", 1, limits, T0 + 75) is None for _ in range(5)]
    assert allowed == [True, True, False, False, False]
    # A minute later the old ones have slid out.
    assert windows.check_and_count("t", 1, limits, T0 + 170) is None


def test_tokens_per_minute_and_a_request_larger_than_the_limit() -> None:
    windows = RateWindows({})
    limits = RateLimits(tokens_per_minute=1000)
    assert windows.check_and_count("t", 600, limits, T0) is None
    limited = windows.check_and_count("t", 600, limits, T0 + 1)
    assert limited is not None and limited.code == "rate_limited_tokens"
    too_big = windows.check_and_count("t", 1001, limits, T0 + 2)
    assert too_big is not None and "1001" in too_big.message
    assert windows.check_and_count("t", 400, limits, T0 + 3) is None  # rejected ones not counted


def test_old_minutes_are_deleted() -> None:
    table: dict[str, Any] = {}
    windows = RateWindows(table)
    for minute in range(5):
        windows.check_and_count("t", 1, RateLimits(requests_per_minute=5), T0 + 60 * minute)
    assert len(table) == 2
