"""The ``budgets`` table: read one, list all, upsert one.

A budget is keyed by tenant, service and use case, where ``''`` means "any" (the table's
convention); results give that back as ``None``. The table is the only place budgets
live: workers enforce them in their policies stage, which reads this table, so a change
made here takes effect when that stage next loads budgets. Nothing is sent to workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.events import Money
from app.reports.rollups import Conn, attribution

LIST_LIMIT = 1000

_COLUMNS = (
    "tenant_id, service, use_case, daily_limit_usd, monthly_limit_usd, alert_thresholds,"
    " hard_stop_ratio, updated_at"
)

# A limit whose "given" flag is false keeps its stored value (NULL for a new budget).
_UPSERT = f"""
INSERT INTO budgets AS b (tenant_id, service, use_case, daily_limit_usd, monthly_limit_usd)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, service, use_case) DO UPDATE SET
    daily_limit_usd = CASE WHEN $6 THEN EXCLUDED.daily_limit_usd ELSE b.daily_limit_usd END,
    monthly_limit_usd =
        CASE WHEN $7 THEN EXCLUDED.monthly_limit_usd ELSE b.monthly_limit_usd END,
    updated_at = now()
RETURNING {_COLUMNS}
"""


class Budget(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    service: str | None  # None = any service
    use_case: str | None  # None = any use case
    daily_limit_usd: Money | None
    monthly_limit_usd: Money | None
    alert_thresholds: list[Decimal]  # fractions of a limit that raise an alert
    hard_stop_ratio: Decimal  # fraction of a limit at which requests are refused
    updated_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return self.service or "", self.use_case or ""


def budget_of(record: Mapping[str, Any]) -> Budget:
    return Budget(
        tenant_id=record["tenant_id"],
        service=attribution(record["service"]),
        use_case=attribution(record["use_case"]),
        daily_limit_usd=record["daily_limit_usd"],
        monthly_limit_usd=record["monthly_limit_usd"],
        alert_thresholds=sorted(record["alert_thresholds"]),
        hard_stop_ratio=record["hard_stop_ratio"],
        updated_at=record["updated_at"],
    )


async def get_budget(
    conn: Conn, tenant: str, service: str | None = None, use_case: str | None = None
) -> Budget | None:
    """The budget with exactly this key (``None``/``''`` = any), if one is set."""
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM budgets WHERE tenant_id = $1 AND service = $2 AND use_case = $3",
        tenant,
        service or "",
        use_case or "",
    )
    return budget_of(record) if record is not None else None


async def tenant_budgets(conn: Conn, tenant: str) -> list[Budget]:
    """Every budget of a tenant, the tenant-wide one first."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM budgets WHERE tenant_id = $1 ORDER BY service, use_case", tenant
    )
    return [budget_of(r) for r in records]


async def list_budgets(conn: Conn, limit: int = LIST_LIMIT) -> tuple[list[Budget], bool]:
    """Budgets by tenant, service and use case: the first ``limit`` and whether more exist."""
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM budgets ORDER BY tenant_id, service, use_case LIMIT $1",
        limit + 1,
    )
    return [budget_of(r) for r in records[:limit]], len(records) > limit


async def set_budget(
    conn: Conn,
    tenant: str,
    *,
    service: str | None = None,
    use_case: str | None = None,
    daily_limit_usd: Decimal | None = None,
    monthly_limit_usd: Decimal | None = None,
    set_daily: bool = True,
    set_monthly: bool = True,
) -> Budget:
    """Create or update a budget. A limit whose ``set_*`` flag is false keeps its value."""
    for name, value in (("daily", daily_limit_usd), ("monthly", monthly_limit_usd)):
        if value is not None and value < 0:
            raise ValueError(f"{name} limit must not be negative, got {value}")
    record = await conn.fetchrow(
        _UPSERT,
        tenant,
        service or "",
        use_case or "",
        daily_limit_usd,
        monthly_limit_usd,
        set_daily,
        set_monthly,
    )
    assert record is not None  # RETURNING always yields the row
    return budget_of(record)
