"""Cost summaries and savings by lever over an inclusive date range, from the rollups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypeGuard

from frugalflow.reports.models import (
    DIMENSIONS,
    CostSummary,
    Dimension,
    LeverSaving,
    SavingsByLever,
    SummaryRow,
    Totals,
    percent_of,
)
from frugalflow.reports.rollups import (
    ATTRIBUTIONS,
    DIMENSION_COLUMNS,
    LEVERS,
    SUMS_SQL,
    Conn,
    attribution,
    totals_of,
)


def _dimensions(group_by: Sequence[str]) -> list[Dimension]:
    unknown = [d for d in group_by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {list(DIMENSIONS)}")
    return [d for d in dict.fromkeys(group_by) if _is_dimension(d)]


def _is_dimension(name: str) -> TypeGuard[Dimension]:
    return name in DIMENSIONS


async def cost_summary(
    conn: Conn,
    *,
    start: date,
    end: date,
    tenant: str | None = None,
    group_by: Sequence[str] = (),
) -> CostSummary:
    """Totals for ``start..end`` (inclusive, UTC days), one row per group, most expensive first.

    ``group_by`` names dimensions among ``tenant, provider, model, service, use_case, path,
    day``; with none, ``rows`` holds a single row with an empty key.
    """
    dims = _dimensions(group_by)
    columns = [DIMENSION_COLUMNS[d] for d in dims]
    select = ", ".join([*columns, SUMS_SQL])
    grouping = f" GROUP BY {', '.join(columns)}" if columns else ""
    order = ", ".join(["cost_usd DESC", *columns])
    sql = (
        f"SELECT {select} FROM cost_rollups"
        " WHERE day BETWEEN $1 AND $2 AND ($3::text IS NULL OR tenant_id = $3)"
        f"{grouping} ORDER BY {order}"
    )
    records = await conn.fetch(sql, start, end, tenant)
    rows = [
        SummaryRow(
            key={d: _key_value(d, r[DIMENSION_COLUMNS[d]]) for d in dims},
            totals=totals_of(r),
        )
        for r in records
    ]
    totals = sum((row.totals for row in rows), Totals())
    return CostSummary(start=start, end=end, tenant=tenant, group_by=dims, rows=rows, totals=totals)


def _key_value(dimension: str, value: str | date) -> str | date | None:
    if isinstance(value, str) and dimension in ATTRIBUTIONS:
        return attribution(value)
    return value


async def savings_by_lever(
    conn: Conn, start: date, end: date, tenant: str | None = None
) -> SavingsByLever:
    """What each lever saved over ``start..end``, largest first, against the baseline."""
    totals = (await cost_summary(conn, start=start, end=end, tenant=tenant)).totals
    levers = sorted(
        (
            LeverSaving(
                lever=lever,
                savings_usd=getattr(totals.savings_usd, lever),
                pct_of_baseline=percent_of(
                    getattr(totals.savings_usd, lever), totals.baseline_cost_usd
                ),
            )
            for lever in LEVERS
        ),
        key=lambda s: (-s.savings_usd, s.lever),
    )
    return SavingsByLever(
        start=start,
        end=end,
        tenant=tenant,
        cost_usd=totals.cost_usd,
        baseline_cost_usd=totals.baseline_cost_usd,
        savings_usd=totals.savings_total_usd,
        savings_pct=totals.savings_pct,
        levers=levers,
    )
