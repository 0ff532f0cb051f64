"""``spend_status``: a tenant's spend today and this month against its budgets.

Each budget covers the tenant's spend in its scope (a service and/or use case, or all of
it). Per limit the state is ``ok``, ``warning`` (at or past the lowest alert threshold),
``over_limit`` (at or past the limit) or ``hard_stop`` (at or past ``hard_stop_ratio`` x
the limit). The month-end forecast is the reports' (``frugalflow.reports.spend``): the average
daily cost of the last 7 days times the days in the month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from frugalflow.events import Money
from frugalflow.reports.budgets import Budget, list_budgets
from frugalflow.reports.models import DailySpend, MonthForecast, percent_of
from frugalflow.reports.periods import utc_today
from frugalflow.reports.rollups import Conn
from frugalflow.reports.spend import FORECAST_WINDOW_DAYS, project_month

State = Literal["ok", "warning", "over_limit", "hard_stop"]
_SEVERITY: tuple[State, ...] = ("ok", "warning", "over_limit", "hard_stop")

_SUMS = ("requests", "cost_usd", "baseline_cost_usd", "savings_usd")
_QUERY = """
SELECT day, service, use_case, sum(requests) AS requests, sum(cost_usd) AS cost_usd,
       sum(baseline_cost_usd) AS baseline_cost_usd,
       sum(savings_batch + savings_prompt_cache + savings_response_cache
           + savings_pattern + savings_routing + savings_flex) AS savings_usd
FROM cost_rollups
WHERE tenant_id = $1 AND day BETWEEN $2 AND $3
GROUP BY day, service, use_case
"""


class LimitStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    limit_usd: Money
    spent_usd: Money
    used_pct: Decimal | None  # None for a zero limit
    state: State


class MonthlyStatus(LimitStatus):
    forecast_usd: Money
    forecast_pct: Decimal | None
    forecast_state: State


class BudgetStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str | None  # None = any
    use_case: str | None
    today_usd: Money
    month_to_date_usd: Money
    forecast_usd: Money
    daily: LimitStatus | None  # None: no daily limit
    monthly: MonthlyStatus | None
    alert_thresholds: list[Decimal]
    hard_stop_ratio: Decimal
    state: State  # the worse of daily and monthly


class SpendStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant: str
    today: date
    today_usd: Money
    forecast: MonthForecast  # the tenant's whole spend
    budgets: list[BudgetStatus]  # the tenant-wide budget first
    state: State | Literal["no_budget"]  # the worst over the budgets


async def spend_status(conn: Conn, tenant: str, *, today: date | None = None) -> SpendStatus:
    """Spend today and month to date, the forecast, and each budget's state."""
    today = today or utc_today()
    first = min(today.replace(day=1), today - timedelta(days=FORECAST_WINDOW_DAYS - 1))
    rows = await conn.fetch(_QUERY, tenant, first, today)
    today_usd, forecast = _scope_spend(rows, ("", ""), tenant, today)
    statuses = [
        _budget_status(budget, *_scope_spend(rows, budget.key, tenant, today))
        for budget in await list_budgets(conn, tenant=tenant)
    ]
    return SpendStatus(
        tenant=tenant,
        today=today,
        today_usd=today_usd,
        forecast=forecast,
        budgets=statuses,
        state=_worst(s.state for s in statuses) if statuses else "no_budget",
    )


def _scope_spend(
    rows: Sequence[Mapping[str, Any]], scope: tuple[str, str], tenant: str, today: date
) -> tuple[Decimal, MonthForecast]:
    """Today's cost within ``scope`` (service, use case; '' = any) and its month forecast."""
    service, use_case = scope
    sums: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(_SUMS))
    for row in rows:
        if (service in ("", row["service"])) and (use_case in ("", row["use_case"])):
            day = sums[row["day"]]
            for i, column in enumerate(_SUMS):
                day[i] += Decimal(row[column])
    spend = [
        DailySpend(
            day=day,
            requests=int(requests),
            cost_usd=cost,
            baseline_cost_usd=baseline,
            savings_usd=savings,
        )
        for day, (requests, cost, baseline, savings) in sorted(sums.items())
    ]
    forecast = project_month(spend, tenant=tenant, today=today, window_days=FORECAST_WINDOW_DAYS)
    return sums[today][1] if today in sums else Decimal(0), forecast


def _budget_status(budget: Budget, today_usd: Decimal, forecast: MonthForecast) -> BudgetStatus:
    daily = monthly = None
    if budget.daily_limit_usd is not None:
        daily = LimitStatus(
            limit_usd=budget.daily_limit_usd,
            spent_usd=today_usd,
            used_pct=_pct(today_usd, budget.daily_limit_usd),
            state=_state(budget, today_usd, budget.daily_limit_usd),
        )
    if budget.monthly_limit_usd is not None:
        limit = budget.monthly_limit_usd
        monthly = MonthlyStatus(
            limit_usd=limit,
            spent_usd=forecast.month_to_date_usd,
            used_pct=_pct(forecast.month_to_date_usd, limit),
            state=_state(budget, forecast.month_to_date_usd, limit),
            forecast_usd=forecast.forecast_usd,
            forecast_pct=_pct(forecast.forecast_usd, limit),
            forecast_state=_state(budget, forecast.forecast_usd, limit),
        )
    return BudgetStatus(
        service=budget.service or None,
        use_case=budget.use_case or None,
        today_usd=today_usd,
        month_to_date_usd=forecast.month_to_date_usd,
        forecast_usd=forecast.forecast_usd,
        daily=daily,
        monthly=monthly,
        alert_thresholds=sorted(budget.alert_thresholds),
        hard_stop_ratio=budget.hard_stop_ratio,
        state=_worst(s.state for s in (daily, monthly) if s is not None),
    )


def _pct(spent: Decimal, limit: Decimal) -> Decimal | None:
    return percent_of(spent, limit) if limit else None


def _state(budget: Budget, spent: Decimal, limit: Decimal) -> State:
    if not limit:  # a zero limit allows nothing
        return "hard_stop" if spent > 0 else "ok"
    ratio = spent / limit
    if ratio >= budget.hard_stop_ratio:
        return "hard_stop"
    if ratio >= 1:
        return "over_limit"
    if budget.alert_thresholds and ratio >= min(budget.alert_thresholds):
        return "warning"
    return "ok"


def _worst(states: Iterable[State]) -> State:
    return max(states, key=_SEVERITY.index, default="ok")
