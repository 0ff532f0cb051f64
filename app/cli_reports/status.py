"""``frugalflow status``: spend against budgets, the month forecast, cost by provider and model.

Per tenant (``--tenant``, else every tenant with traffic in the window or a budget):
today's and the month's spend against each ``budgets`` row (the tenant-wide row has
service and use case ``''``; narrower rows count only their service / use case), the
daily average over the last ``--days`` days and the month forecast from it
(``frugalflow.reports.forecast_month``), and the month's ``cost_summary`` by provider and model.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import asyncpg
from pydantic import BaseModel

from frugalflow.cli_reports.table import Column, render_table
from frugalflow.events import Money
from frugalflow.reports import CostSummary, MonthForecast, cost_summary, forecast_month
from frugalflow.reports.models import percent_of
from frugalflow.reports.periods import utc_today

_TENANTS = """
SELECT tenant_id FROM cost_rollups WHERE day BETWEEN $1 AND $2
UNION SELECT tenant_id FROM budgets ORDER BY 1
"""
_BUDGETS = """
SELECT service, use_case, daily_limit_usd, monthly_limit_usd FROM budgets
WHERE tenant_id = $1 ORDER BY service, use_case
"""
_SPEND = """
SELECT COALESCE(sum(cost_usd) FILTER (WHERE day = $3), 0) AS today,
       COALESCE(sum(cost_usd), 0) AS month
FROM cost_rollups
WHERE tenant_id = $1 AND day BETWEEN $2 AND $3
  AND ($4 = '' OR service = $4) AND ($5 = '' OR use_case = $5)
"""


class BudgetStatus(BaseModel):
    service: str | None  # None: any service
    use_case: str | None  # None: any use case
    today_usd: Money
    month_usd: Money
    daily_limit_usd: Money | None
    daily_used_pct: Decimal | None
    monthly_limit_usd: Money | None
    monthly_used_pct: Decimal | None


class TenantStatus(BaseModel):
    tenant: str
    today_usd: Money
    month_to_date_usd: Money
    forecast: MonthForecast
    budgets: list[BudgetStatus]
    by_provider: CostSummary
    by_model: CostSummary


class StatusReport(BaseModel):
    today: date
    window_days: int
    tenants: list[TenantStatus]


async def build_status(
    conn: asyncpg.Connection, *, tenant: str | None, days: int, today: date | None = None
) -> StatusReport:
    today = today or utc_today()
    month_start = today.replace(day=1)
    first = min(month_start, today - timedelta(days=days - 1))
    tenants = (
        [tenant] if tenant else [r["tenant_id"] for r in await conn.fetch(_TENANTS, first, today)]
    )
    statuses = []
    for name in tenants:
        spend = await conn.fetchrow(_SPEND, name, month_start, today, "", "")
        budgets = [
            await _budget(conn, name, row, month_start, today)
            for row in await conn.fetch(_BUDGETS, name)
        ]
        statuses.append(
            TenantStatus(
                tenant=name,
                today_usd=spend["today"],
                month_to_date_usd=spend["month"],
                forecast=await forecast_month(conn, name, today=today, window_days=days),
                budgets=budgets,
                by_provider=await _month_by(conn, name, month_start, today, "provider"),
                by_model=await _month_by(conn, name, month_start, today, "model"),
            )
        )
    return StatusReport(today=today, window_days=days, tenants=statuses)


async def _month_by(
    conn: asyncpg.Connection, tenant: str, month_start: date, today: date, dimension: str
) -> CostSummary:
    return await cost_summary(
        conn, start=month_start, end=today, tenant=tenant, group_by=[dimension]
    )


async def _budget(
    conn: asyncpg.Connection, tenant: str, row: asyncpg.Record, month_start: date, today: date
) -> BudgetStatus:
    spend = await conn.fetchrow(_SPEND, tenant, month_start, today, row["service"], row["use_case"])
    daily, monthly = row["daily_limit_usd"], row["monthly_limit_usd"]
    return BudgetStatus(
        service=row["service"] or None,
        use_case=row["use_case"] or None,
        today_usd=spend["today"],
        month_usd=spend["month"],
        daily_limit_usd=daily,
        daily_used_pct=None if daily is None else percent_of(spend["today"], daily),
        monthly_limit_usd=monthly,
        monthly_used_pct=None if monthly is None else percent_of(spend["month"], monthly),
    )


def render_status(report: StatusReport) -> str:
    if not report.tenants:
        return f"No cost recorded in the last {report.window_days} days and no budgets set."
    return "\n\n\n".join(_render_tenant(t, report) for t in report.tenants)


def _render_tenant(t: TenantStatus, report: StatusReport) -> str:
    f = t.forecast
    lines = [
        f"Tenant {t.tenant} — {report.today.isoformat()} (UTC)",
        render_table(
            [Column(""), Column("amount", "money"), Column("note")],
            [
                ["spend today", t.today_usd, ""],
                ["month to date", t.month_to_date_usd, f"since {t.by_provider.start}"],
                ["daily average", f.daily_average_usd, f"last {f.window_days} days"],
                ["month forecast", f.forecast_usd, f"daily average x {f.days_in_month} days"],
            ],
        ),
        "",
    ]
    if t.budgets:
        lines.append("Budgets:")
        lines.append(
            render_table(
                [
                    Column("scope"),
                    Column("today", "money"),
                    Column("daily limit", "money"),
                    Column("used", "pct"),
                    Column("month", "money"),
                    Column("monthly limit", "money"),
                    Column("used", "pct"),
                ],
                [
                    [
                        _scope(b),
                        b.today_usd,
                        b.daily_limit_usd,
                        b.daily_used_pct,
                        b.month_usd,
                        b.monthly_limit_usd,
                        b.monthly_used_pct,
                    ]
                    for b in t.budgets
                ],
            )
        )
    else:
        lines.append("Budgets: none set for this tenant.")
    for title, summary in (("provider", t.by_provider), ("model", t.by_model)):
        lines += ["", f"This month by {title}:", _summary_table(title, summary)]
    return "\n".join(lines)


def _scope(b: BudgetStatus) -> str:
    parts = [
        f"service={b.service}" if b.service else "",
        f"use_case={b.use_case}" if b.use_case else "",
    ]
    return " ".join(p for p in parts if p) or "tenant"


def _summary_table(dimension: str, summary: CostSummary) -> str:
    if not summary.rows:
        return "  (no traffic)"
    rows = [
        [str(r.key.get(dimension) or "(none)"), r.totals.requests, r.totals.cost_usd,
         r.totals.baseline_cost_usd, r.totals.savings_total_usd, r.totals.savings_pct]
        for r in summary.rows
    ]  # fmt: skip
    tot = summary.totals
    rows.append(["total", tot.requests, tot.cost_usd, tot.baseline_cost_usd,
                 tot.savings_total_usd, tot.savings_pct])  # fmt: skip
    return render_table(
        [
            Column(dimension),
            Column("requests", "int"),
            Column("cost", "money"),
            Column("baseline", "money"),
            Column("saved", "money"),
            Column("saved %", "pct"),
        ],
        rows,
    )
