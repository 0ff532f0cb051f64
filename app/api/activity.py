"""``/v1/alerts``, ``/v1/rejections``, ``/v1/batches`` and a tenant's spend status: what
the console shows beside the costs (tables kept by the activity sink)."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field

from frugalflow.api.models import RangeQuery, TenantQuery
from frugalflow.api.routing import TENANT, Operation, json, path_param, query, state
from frugalflow.reports import activity
from frugalflow.reports.activity import AlertRow, BatchFilter, BatchRow, Rejections
from frugalflow.reports.spend_status import SpendStatus, spend_status

Limit = Annotated[int, Field(ge=1, le=1000, description="rows at most (default 100)")]


class ActivityQuery(RangeQuery):
    limit: Limit = 100


class BatchQuery(TenantQuery):
    state: BatchFilter = Field("all", description="pending (submitting or submitted), done, all")
    limit: Limit = 100


class AlertList(BaseModel):
    alerts: list[AlertRow]


class BatchList(BaseModel):
    batches: list[BatchRow]


async def list_alerts(request: web.Request) -> web.Response:
    q = query(request, ActivityQuery)
    pool = await state(request).pool()
    return json(AlertList(alerts=await activity.alerts(pool, *q.days, q.tenant, q.limit)))


async def list_rejections(request: web.Request) -> web.Response:
    q = query(request, ActivityQuery)
    return json(await activity.rejections(await state(request).pool(), *q.days, q.tenant, q.limit))


async def list_batches(request: web.Request) -> web.Response:
    q = query(request, BatchQuery)
    found = await activity.batches(await state(request).pool(), q.state, q.tenant, q.limit)
    return json(BatchList(batches=found))


async def tenant_status(request: web.Request) -> web.Response:
    tenant = path_param(request, TENANT)
    return json(await spend_status(await state(request).pool(), tenant))


OPERATIONS = [
    Operation("GET", "/v1/alerts", list_alerts, "Budget and health alerts, newest first",
              "activity", "listAlerts", query=ActivityQuery, response=AlertList, errors=(400,)),
    Operation("GET", "/v1/rejections", list_rejections,
              "Rejected requests (budget hard stop, rate limit, safety) by code and newest",
              "activity", "listRejections", query=ActivityQuery, response=Rejections,
              errors=(400,)),
    Operation("GET", "/v1/batches", list_batches,
              "Provider batches: pending ones (oldest first), then recent ones", "activity",
              "listBatches", query=BatchQuery, response=BatchList, errors=(400,)),
    Operation("GET", "/v1/tenants/{tenant}/status", tenant_status,
              "A tenant's spend today and this month against each budget, with the forecast",
              "budgets", "tenantStatus", path_params=(TENANT,), response=SpendStatus,
              errors=(400,)),
]  # fmt: skip
