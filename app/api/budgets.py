"""``/v1/budgets``: per-tenant limits, optionally narrowed to a service and use case."""

from __future__ import annotations

from aiohttp import web

from frugalflow.api.errors import ApiError, not_found
from frugalflow.api.models import BudgetIn, BudgetList, ScopeQuery, TenantQuery
from frugalflow.api.routing import TENANT, Operation, body, json, path_param, query, state
from frugalflow.reports import budgets
from frugalflow.reports.budgets import Budget


def _key(request: web.Request) -> tuple[str, str, str]:
    scope = query(request, ScopeQuery)
    return path_param(request, TENANT), scope.service, scope.use_case


def _missing(tenant: str, service: str, use_case: str) -> ApiError:
    return not_found(f"no budget for tenant {tenant!r}, service {service!r}, "
                     f"use case {use_case!r}")  # fmt: skip


async def list_budgets(request: web.Request) -> web.Response:
    tenant = query(request, TenantQuery).tenant
    pool = await state(request).pool()
    return json(BudgetList(budgets=await budgets.list_budgets(pool, tenant=tenant)))


async def get_budget(request: web.Request) -> web.Response:
    key = _key(request)
    found = await budgets.get_budget(await state(request).pool(), *key)
    if found is None:
        raise _missing(*key)
    return json(found)


async def put_budget(request: web.Request) -> web.Response:
    tenant, service, use_case = _key(request)
    limits = await body(request, BudgetIn)
    budget = Budget(tenant=tenant, service=service, use_case=use_case, **limits.model_dump())
    return json(await budgets.put_budget(await state(request).pool(), budget))


async def delete_budget(request: web.Request) -> web.Response:
    key = _key(request)
    if not await budgets.delete_budget(await state(request).pool(), *key):
        raise _missing(*key)
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
