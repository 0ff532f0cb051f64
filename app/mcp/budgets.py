"""Budgets as the MCP tools show them; ``frugalflow.reports.budgets`` reads and writes the table.

The tools give "any" service or use case back as ``None`` (the table's ``''``), name the
tenant ``tenant_id`` and list alert thresholds lowest first. The table is the only place
budgets live: workers enforce them from it, so a change made by ``set_budget`` takes
effect when they next load budgets. Nothing is sent to workers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from frugalflow.events import Money
from frugalflow.reports.budgets import Budget

LIST_LIMIT = 1000


class BudgetOut(BaseModel):
    """A budget in a tool's result."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    service: str | None  # None = any service
    use_case: str | None  # None = any use case
    daily_limit_usd: Money | None
    monthly_limit_usd: Money | None
    alert_thresholds: list[Decimal]  # fractions of a limit that raise an alert, ascending
    hard_stop_ratio: Decimal  # fraction of a limit at which requests are refused
    updated_at: datetime

    @classmethod
    def of(cls, budget: Budget) -> BudgetOut:
        return cls(
            tenant_id=budget.tenant,
            service=budget.service or None,
            use_case=budget.use_case or None,
            daily_limit_usd=budget.daily_limit_usd,
            monthly_limit_usd=budget.monthly_limit_usd,
            alert_thresholds=sorted(budget.alert_thresholds),
            hard_stop_ratio=budget.hard_stop_ratio,
            updated_at=budget.updated_at,
        )
