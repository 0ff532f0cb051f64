"""``frugalflow optimize``: ``frugalflow.reports.recommendations`` over the last ``--days`` days,
as a table in the order returned (largest estimated saving first) with a totals line."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import asyncpg
from pydantic import BaseModel

from frugalflow.cli_reports.table import Column, money, render_table
from frugalflow.events import Money
from frugalflow.reports import Recommendation, recommendations
from frugalflow.reports.periods import utc_today


class OptimizeReport(BaseModel):
    start: date
    end: date
    tenant: str | None
    recommendations: list[Recommendation]
    total_estimated_monthly_saving_usd: Money


async def build_optimize(
    conn: asyncpg.Connection, *, tenant: str | None, days: int, today: date | None = None
) -> OptimizeReport:
    end = today or utc_today()
    start = end - timedelta(days=days - 1)
    found = await recommendations(conn, start, end, tenant)
    return OptimizeReport(
        start=start,
        end=end,
        tenant=tenant,
        recommendations=found,
        total_estimated_monthly_saving_usd=sum(
            (r.estimated_monthly_saving_usd for r in found), Decimal(0)
        ),
    )


def scope(r: Recommendation) -> str:
    """tenant / use case / model ('*' where the recommendation spans all of them)."""
    return " / ".join((r.tenant_id, r.use_case or "*", r.model or "*"))


def render_optimize(report: OptimizeReport) -> str:
    period = f"{report.start}..{report.end}"
    who = f"tenant {report.tenant}" if report.tenant else "all tenants"
    if not report.recommendations:
        return f"No recommendations for {who} over {period}."
    table = render_table(
        [
            Column("kind"),
            Column("scope (tenant / use case / model)"),
            Column("est. monthly saving", "money"),
            Column("confidence", "num"),
            Column("title"),
        ],
        [
            [r.kind, scope(r), r.estimated_monthly_saving_usd, f"{r.confidence:.2f}", r.title]
            for r in report.recommendations
        ],
    )
    total = money(report.total_estimated_monthly_saving_usd)
    n = len(report.recommendations)
    return (
        f"Recommendations for {who} from {period} (estimates per 30-day month):\n{table}\n\n"
        f"Total: {n} recommendation{'s' if n != 1 else ''}, estimated monthly saving {total} "
        "(estimates can overlap)"
    )
