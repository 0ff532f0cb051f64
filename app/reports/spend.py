"""Daily spend and the month-end forecast shown by ``status``.

Forecast: the average daily cost of the last ``window_days`` days (today included)
times the number of days in the current month.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from frugalflow.reports.models import DailySpend, MonthForecast
from frugalflow.reports.periods import utc_today
from frugalflow.reports.rollups import Conn

FORECAST_WINDOW_DAYS = 7

_QUERY = """
SELECT day, COALESCE(sum(requests), 0) AS requests, COALESCE(sum(cost_usd), 0) AS cost_usd,
       COALESCE(sum(baseline_cost_usd), 0) AS baseline_cost_usd,
       COALESCE(sum(savings_batch + savings_prompt_cache + savings_response_cache
                    + savings_pattern + savings_routing + savings_flex), 0) AS savings_usd
FROM cost_rollups
WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR tenant_id = $3)
GROUP BY day
"""


async def daily_spend(
    conn: Conn, tenant: str | None, days: int, *, today: date | None = None
) -> list[DailySpend]:
    """One entry per UTC day for the ``days`` days ending ``today``, oldest first
    (days without traffic are zeros). ``tenant=None`` sums every tenant."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    last = today or utc_today()
    first = last - timedelta(days=days - 1)
    found = {r["day"]: r for r in await conn.fetch(_QUERY, first, last, tenant)}
    out: list[DailySpend] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        r = found.get(day)
        out.append(
            DailySpend(
                day=day,
                requests=int(r["requests"]) if r else 0,
                cost_usd=Decimal(r["cost_usd"]) if r else Decimal(0),
                baseline_cost_usd=Decimal(r["baseline_cost_usd"]) if r else Decimal(0),
                savings_usd=Decimal(r["savings_usd"]) if r else Decimal(0),
            )
        )
    return out


async def forecast_month(
    conn: Conn,
    tenant: str | None,
    *,
    today: date | None = None,
    window_days: int = FORECAST_WINDOW_DAYS,
) -> MonthForecast:
    """Month-to-date spend and the forecast for the whole month containing ``today``."""
    today = today or utc_today()
    spend = await daily_spend(conn, tenant, max(window_days, today.day), today=today)
    return project_month(spend, tenant=tenant, today=today, window_days=window_days)


def project_month(
    spend: Sequence[DailySpend], *, tenant: str | None, today: date, window_days: int
) -> MonthForecast:
    """The forecast from daily spend that covers the window and the month so far."""
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    window_start = today - timedelta(days=window_days - 1)
    window = sum((d.cost_usd for d in spend if window_start <= d.day <= today), Decimal(0))
    month_to_date = sum(
        (d.cost_usd for d in spend if d.day.replace(day=1) == today.replace(day=1)),
        Decimal(0),
    )
    average = window / window_days
    return MonthForecast(
        tenant=tenant,
        today=today,
        days_in_month=days_in_month,
        month_to_date_usd=month_to_date,
        window_days=window_days,
        daily_average_usd=average,
        forecast_usd=average * days_in_month,
    )
