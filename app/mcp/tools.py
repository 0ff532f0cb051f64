"""The MCP tools: name, description, argument model and handler of each.

Handlers take the database (an asyncpg pool) and validated arguments and return a JSON
object; money is a decimal string, dates are ``YYYY-MM-DD``. Report periods are inclusive
UTC days and default to the month to date.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic

from pydantic import BaseModel

from frugalflow.mcp.budgets import LIST_LIMIT, BudgetOut
from frugalflow.mcp.inputs import (
    ArgsT,
    BudgetKey,
    CostSummaryArgs,
    NoArgs,
    Period,
    SetBudgetArgs,
    TenantArgs,
    input_schema,
    parse_args,
)
from frugalflow.reports import Totals, budgets, cost_summary, recommendations, savings_by_lever
from frugalflow.reports.rollups import Conn
from frugalflow.reports.spend_status import spend_status

Json = dict[str, Any]


@dataclass(frozen=True)
class ToolSpec(Generic[ArgsT]):
    name: str
    description: str
    args: type[ArgsT]
    handler: Callable[[Conn, ArgsT], Awaitable[Json]]
    read_only: bool = True

    def schema(self) -> Json:
        return input_schema(self.args)

    async def call(self, conn: Conn, arguments: dict[str, Any] | None) -> Json:
        return await self.handler(conn, parse_args(self.args, arguments))


def _dump(model: BaseModel) -> Json:
    return model.model_dump(mode="json")


def _totals(totals: Totals) -> Json:
    """Totals plus the savings sum and percentage (properties, not fields)."""
    return {
        **_dump(totals),
        "savings_total_usd": format(totals.savings_total_usd, "f"),
        "savings_pct": format(totals.savings_pct, "f"),
    }


async def _cost_summary(conn: Conn, args: CostSummaryArgs) -> Json:
    start, end = args.bounds()
    summary = await cost_summary(
        conn, start=start, end=end, tenant=args.tenant, group_by=args.group_by
    )
    out = _dump(summary)
    out["totals"] = _totals(summary.totals)
    for row, model in zip(out["rows"], summary.rows, strict=True):
        row["totals"] = _totals(model.totals)
    return out


async def _savings(conn: Conn, args: Period) -> Json:
    start, end = args.bounds()
    return _dump(await savings_by_lever(conn, start, end, args.tenant))


async def _recommendations(conn: Conn, args: Period) -> Json:
    start, end = args.bounds()
    found = await recommendations(conn, start, end, args.tenant)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "tenant": args.tenant,
        "recommendations": [_dump(r) for r in found],
    }


async def _get_budget(conn: Conn, args: BudgetKey) -> Json:
    found = await budgets.get_budget(conn, args.tenant, args.service or "", args.use_case or "")
    return {
        "tenant": args.tenant,
        "service": args.service or None,
        "use_case": args.use_case or None,
        "budget": _dump(BudgetOut.of(found)) if found is not None else None,
    }


async def _list_budgets(conn: Conn, _: NoArgs) -> Json:
    found = await budgets.list_budgets(conn, limit=LIST_LIMIT + 1)  # one more: truncated?
    shown = found[:LIST_LIMIT]
    return {
        "budgets": [_dump(BudgetOut.of(b)) for b in shown],
        "count": len(shown),
        "truncated": len(found) > LIST_LIMIT,
    }


async def _set_budget(conn: Conn, args: SetBudgetArgs) -> Json:
    given = args.model_fields_set
    budget = await budgets.update_budget_limits(
        conn,
        args.tenant,
        args.service or "",
        args.use_case or "",
        daily=args.daily_limit_usd if "daily_limit_usd" in given else budgets.UNSET,
        monthly=args.monthly_limit_usd if "monthly_limit_usd" in given else budgets.UNSET,
    )
    return {"budget": _dump(BudgetOut.of(budget))}


async def _spend_status(conn: Conn, args: TenantArgs) -> Json:
    return _dump(await spend_status(conn, args.tenant))


_PERIOD = (
    " Period: start..end inclusive UTC days (YYYY-MM-DD), default the month to date;"
    " tenant omitted = every tenant. Money is in USD as decimal strings."
)

TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        "cost_summary",
        "What was spent: requests, tokens, cost, list-price baseline and savings by lever,"
        " optionally broken down by tenant, provider, model, service, use_case, path or day"
        " (most expensive first)." + _PERIOD,
        CostSummaryArgs,
        _cost_summary,
    ),
    ToolSpec(
        "savings",
        "What each saving lever (batch, prompt_cache, response_cache, pattern, routing,"
        " flex) saved against the list-price baseline, largest first." + _PERIOD,
        Period,
        _savings,
    ),
    ToolSpec(
        "recommendations",
        "How to cut the bill: migrations off deprecated or retired models (with the"
        " successor's monthly cost difference, first), cheaper models, moving traffic to"
        " the batch path, prompt caching, over-long prompts; each with an estimated monthly"
        " saving and a confidence, largest saving first." + _PERIOD,
        Period,
        _recommendations,
    ),
    ToolSpec(
        "get_budget",
        "The budget of a tenant for exactly this service and use case (omitted = the"
        " budget that applies to any); budget is null when none is set.",
        BudgetKey,
        _get_budget,
    ),
    ToolSpec(
        "list_budgets",
        f"Every budget, by tenant, service and use case (at most {LIST_LIMIT};"
        " truncated tells when there are more).",
        NoArgs,
        _list_budgets,
    ),
    ToolSpec(
        "set_budget",
        "Create or update a tenant's budget, optionally narrowed to a service and/or use"
        " case. Limits are USD and must be >= 0; a limit left out keeps its current value"
        " (none for a new budget) and null removes it; give at least one. Writes the"
        " budgets table; the workers' policies stage enforces budgets from that table"
        " when it next loads them.",
        SetBudgetArgs,
        _set_budget,
        read_only=False,
    ),
    ToolSpec(
        "spend_status",
        "A tenant's spend today and month to date against each of its budgets (state ok,"
        " warning, over_limit or hard_stop), with the month-end forecast (last 7 days'"
        " average x days in the month).",
        TenantArgs,
        _spend_status,
    ),
)

BY_NAME: dict[str, ToolSpec[Any]] = {tool.name: tool for tool in TOOLS}

__all__ = ["BY_NAME", "TOOLS", "Json", "ToolSpec"]
