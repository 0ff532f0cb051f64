"""``/v1/costs`` and ``/v1/recommendations``: the report layer over HTTP."""

from __future__ import annotations

from aiohttp import web

from frugalflow import reports
from frugalflow.api.models import RangeQuery, RecommendationList, SummaryQuery
from frugalflow.api.routing import Operation, json, query, state
from frugalflow.reports import CostSummary, SavingsByLever


async def summary(request: web.Request) -> web.Response:
    q = query(request, SummaryQuery)
    start, end = q.days
    group_by = q.group_by.split(",") if q.group_by else []
    result = await reports.cost_summary(
        await state(request).pool(), start=start, end=end, tenant=q.tenant, group_by=group_by
    )
    return json(result)


async def savings(request: web.Request) -> web.Response:
    q = query(request, RangeQuery)
    start, end = q.days
    return json(await reports.savings_by_lever(await state(request).pool(), start, end, q.tenant))


async def export_csv(request: web.Request) -> web.StreamResponse:
    """Streams rows as the server-side cursor yields them; memory stays bounded."""
    q = query(request, RangeQuery)
    start, end = q.days
    pool = await state(request).pool()  # before prepare(): errors are still JSON here
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="costs-{start}-{end}.csv"',
        }
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    async for line in reports.export_rows(pool, start, end, q.tenant):
        await response.write(line.encode())
    await response.write_eof()
    return response


async def recommendations(request: web.Request) -> web.Response:
    q = query(request, RangeQuery)
    start, end = q.days
    found = await reports.recommendations(await state(request).pool(), start, end, q.tenant)
    return json(RecommendationList(start=start, end=end, tenant=q.tenant, recommendations=found))


OPERATIONS = [
    Operation("GET", "/v1/costs/summary", summary, "Cost totals, grouped by dimensions",
              "costs", "costSummary", query=SummaryQuery, response=CostSummary, errors=(400,)),
    Operation("GET", "/v1/costs/savings", savings, "Savings by lever against the baseline",
              "costs", "costSavings", query=RangeQuery, response=SavingsByLever, errors=(400,)),
    Operation("GET", "/v1/costs/export.csv", export_csv, "Raw cost events as CSV (streamed)",
              "costs", "exportCosts", query=RangeQuery, media="text/csv", errors=(400,)),
    Operation("GET", "/v1/recommendations", recommendations, "Cost recommendations",
              "costs", "recommendations", query=RangeQuery, response=RecommendationList,
              errors=(400,)),
]  # fmt: skip
