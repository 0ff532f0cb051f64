"""``/v1/budgets``: per-tenant limits, optionally narrowed to a service and use case."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from aiohttp import web

from app.api.errors import not_found
from app.api.models import Budget, BudgetIn, BudgetList, ScopeQuery, TenantQuery
from app.api.routing import TENANT, Operation, body, json, path_param, query, state

_COLUMNS = (
    "tenant_id, service, use_case, daily_limit_usd, monthly_limit_usd, alert_thresholds,"
    " hard_stop_ratio, updated_at"
)
_KEY = "tenant_id = $1 AND service = $2 AND use_case = $3"


def _budget(r: asyncpg.Record) -> Budget:
    return Budget(
        tenant=r["tenant_id"],
        service=r["service"],
        use_case=r["use_case"],
        daily_limit_usd=r["daily_limit_usd"],
        monthly_limit_usd=r["monthly_limit_usd"],
        alert_thresholds=[Decimal(t) for t in r["alert_thresholds"]],
        hard_stop_ratio=r["hard_stop_ratio"],
        updated_at=r["updated_at"],
    )


def _key(request: web.Request) -> tuple[str, str, str]:
    scope = query(request, ScopeQuery)
    return path_param(request, TENANT), scope.service, scope.use_case


async def list_budgets(request: web.Request) -> web.Response:
    tenant = query(request, TenantQuery).tenant
    pool = await state(request).pool()
    records = await pool.fetch(
        f"SELECT {_COLUMNS} FROM budgets WHERE ($1::text IS NULL OR tenant_id = $1)"
        " ORDER BY tenant_id, service, use_case",
        tenant,
    )
    return json(BudgetList(budgets=[_budget(r) for r in records]))


async def _one(request: web.Request, sql: str) -> asyncpg.Record:
    """The budget row ``sql`` (taking the key as $1..$3) returns; 404 without one."""
    key = _key(request)
    record = await (await state(request).pool()).fetchrow(sql, *key)
    if record is None:
        tenant, service, use_case = key
        raise not_found(f"no budget for tenant {tenant!r}, service {service!r}, "
                        f"use case {use_case!r}")  # fmt: skip
    return record


async def get_budget(request: web.Request) -> web.Response:
    return json(_budget(await _one(request, f"SELECT {_COLUMNS} FROM budgets WHERE {_KEY}")))


async def put_budget(request: web.Request) -> web.Response:
    key = _key(request)
    budget = await body(request, BudgetIn)
    record = await (await state(request).pool()).fetchrow(
        f"INSERT INTO budgets ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, now())"
        " ON CONFLICT (tenant_id, service, use_case) DO UPDATE SET"
        " daily_limit_usd = EXCLUDED.daily_limit_usd,"
        " monthly_limit_usd = EXCLUDED.monthly_limit_usd,"
        " alert_thresholds = EXCLUDED.alert_thresholds,"
        " hard_stop_ratio = EXCLUDED.hard_stop_ratio, updated_at = now()"
        f" RETURNING {_COLUMNS}",
        *key, budget.daily_limit_usd, budget.monthly_limit_usd,
        list(budget.alert_thresholds), budget.hard_stop_ratio,
    )  # fmt: skip
    assert record is not None
    return json(_budget(record))


async def delete_budget(request: web.Request) -> web.Response:
    await _one(request, f"DELETE FROM budgets WHERE {_KEY} RETURNING tenant_id")
    return web.Response(status=204)


_PATH = "/v1/budgets/{tenant}"
OPERATIONS = [
    Operation("GET", "/v1/budgets", list_budgets, "List budgets", "budgets", "listBudgets",
              query=TenantQuery, response=BudgetList, errors=(400,)),
    Operation("GET", _PATH, get_budget, "A tenant's budget (scope: service, use_case)",
              "budgets", "getBudget", path_params=(TENANT,), query=ScopeQuery,
              response=Budget, errors=(400, 404)),
    Operation("PUT", _PATH, put_budget, "Create or replace a budget", "budgets", "putBudget",
              path_params=(TENANT,), query=ScopeQuery, body=BudgetIn, response=Budget,
              errors=(400, 422)),
    Operation("DELETE", _PATH, delete_budget, "Delete a budget", "budgets", "deleteBudget",
              path_params=(TENANT,), query=ScopeQuery, status=204, errors=(400, 404)),
]  # fmt: skip
