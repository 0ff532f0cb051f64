"""Report periods: inclusive UTC date ranges and the scaling of a range to a month."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

MONTH_DAYS = 30


def range_days(start: date, end: date) -> int:
    """Days in ``start..end``, both included."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return (end - start).days + 1


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00 UTC, end + 1 day 00:00 UTC)``: the instants of the inclusive range."""
    range_days(start, end)
    return (
        datetime.combine(start, time(), UTC),
        datetime.combine(end + timedelta(days=1), time(), UTC),
    )


def month_factor(start: date, end: date) -> Decimal:
    """Multiplier turning an amount observed over ``start..end`` into a 30-day month."""
    return Decimal(MONTH_DAYS) / Decimal(range_days(start, end))


def utc_today() -> date:
    return datetime.now(UTC).date()
