"""The ``budgets`` table: the one place budgets are read and written.

A budget caps a tenant's spend per UTC day and/or per calendar month. It is keyed by
tenant, service and use case, where ``''`` means "any" (the table's convention, kept
as it is here): ``("acme", "", "")`` covers all of acme's spend, ``("acme", "search",
"")`` only its ``search`` service. A missing limit (``None``) does not cap that period.
``alert_thresholds`` are fractions of a limit that raise an alert; at
``hard_stop_ratio`` x the limit requests are refused.

Every reader and writer goes through this module: the admin API (``/v1/budgets``),
the MCP tools (``get_budget``, ``list_budgets``, ``set_budget``, ``spend_status``) and
the workers' budget enforcement. Each surface validates its own input and shapes its own
output; this layer only maps rows to ``Budget`` and back. Functions take an asyncpg
connection or pool (``Conn``). Writes take effect for a reader when it next loads the
table; nothing is pushed to workers.

- ``get_budget(conn, tenant, service, use_case)``: exactly that key, or ``None``.
- ``list_budgets(conn, tenant=..., limit=...)``: by tenant, service, use case (so a
  tenant's tenant-wide budget comes first).
- ``put_budget(conn, budget)``: create or fully replace (every column from ``budget``).
- ``update_budget_limits(conn, tenant, service, use_case, daily=..., monthly=...)``:
  create or update only the limits given (``UNSET`` keeps one, ``None`` clears it).
- ``delete_budget(conn, tenant, service, use_case)``: whether a budget was deleted.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from frugalflow.events import Money, utcnow
from frugalflow.reports.rollups import Conn

_COLUMNS = (
    "tenant_id, service, use_case, daily_limit_usd, monthly_limit_usd, alert_thresholds,"
    " hard_stop_ratio, updated_at"
)
_KEY = "tenant_id = $1 AND service = $2 AND use_case = $3"

_PUT = f"""
INSERT INTO budgets ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT (tenant_id, service, use_case) DO UPDATE SET
    daily_limit_usd = EXCLUDED.daily_limit_usd,
    monthly_limit_usd = EXCLUDED.monthly_limit_usd,
    alert_thresholds = EXCLUDED.alert_thresholds,
    hard_stop_ratio = EXCLUDED.hard_stop_ratio,
    updated_at = now()
RETURNING {_COLUMNS}
"""

# A limit whose "given" flag ($6, $7) is false keeps its stored value (NULL for a new
# budget); a new budget gets the table's default thresholds and hard stop.
_UPDATE_LIMITS = f"""
INSERT INTO budgets AS b (tenant_id, service, use_case, daily_limit_usd, monthly_limit_usd)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, service, use_case) DO UPDATE SET
    daily_limit_usd = CASE WHEN $6 THEN EXCLUDED.daily_limit_usd ELSE b.daily_limit_usd END,
    monthly_limit_usd =
        CASE WHEN $7 THEN EXCLUDED.monthly_limit_usd ELSE b.monthly_limit_usd END,
    updated_at = now()
RETURNING {_COLUMNS}
"""


class _Unset(enum.Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""``update_budget_limits``: leave this limit as it is (``None`` clears it)."""


class Budget(BaseModel):
    # One row of ``budgets``; money is ``Decimal`` (a decimal string in JSON). No
    # docstring: the model is the API's response schema, which would publish it.
    # Serialization schemas (the API's OpenAPI document) list every field as required.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    tenant: str
    service: str  # '' = any service
    use_case: str  # '' = any use case
    daily_limit_usd: Money | None  # None = no daily limit
    monthly_limit_usd: Money | None  # None = no monthly limit
    alert_thresholds: list[Money]  # fractions of a limit that raise an alert, as stored
    hard_stop_ratio: Money  # fraction of a limit at which requests are refused
    # When the row was last written; ``put_budget`` ignores it (the database sets it).
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def key(self) -> tuple[str, str]:
        """(service, use case), ``''`` = any."""
        return self.service, self.use_case


def budget_of(record: Mapping[str, Any]) -> Budget:
    """A ``budgets`` row (all of its columns) → ``Budget``."""
    return Budget(
        tenant=record["tenant_id"],
        service=record["service"],
        use_case=record["use_case"],
        daily_limit_usd=record["daily_limit_usd"],
        monthly_limit_usd=record["monthly_limit_usd"],
        alert_thresholds=list(record["alert_thresholds"]),
        hard_stop_ratio=record["hard_stop_ratio"],
        updated_at=record["updated_at"],
    )


async def get_budget(
    conn: Conn, tenant: str, service: str = "", use_case: str = ""
) -> Budget | None:
    """The budget with exactly this key (``''`` = any), if one is set."""
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM budgets WHERE {_KEY}", tenant, service, use_case
    )
    return budget_of(record) if record is not None else None


async def list_budgets(
    conn: Conn, *, tenant: str | None = None, limit: int | None = None
) -> list[Budget]:
    """Budgets (of ``tenant``, else all) by tenant, service and use case; at most ``limit``.

    To learn whether more exist, ask for ``limit + 1`` and look at the length.
    """
    records = await conn.fetch(
        f"SELECT {_COLUMNS} FROM budgets WHERE ($1::text IS NULL OR tenant_id = $1)"
        " ORDER BY tenant_id, service, use_case LIMIT $2",
        tenant,
        limit,
    )
    return [budget_of(r) for r in records]


async def put_budget(conn: Conn, budget: Budget) -> Budget:
    """Create or fully replace the budget with ``budget``'s key; the stored budget."""
    record = await conn.fetchrow(
        _PUT,
        budget.tenant,
        budget.service,
        budget.use_case,
        budget.daily_limit_usd,
        budget.monthly_limit_usd,
        list(budget.alert_thresholds),
        budget.hard_stop_ratio,
    )
    assert record is not None  # RETURNING always yields the row
    return budget_of(record)


async def update_budget_limits(
    conn: Conn,
    tenant: str,
    service: str = "",
    use_case: str = "",
    *,
    daily: Decimal | _Unset | None = UNSET,
    monthly: Decimal | _Unset | None = UNSET,
) -> Budget:
    """Create or update a budget's limits: ``UNSET`` keeps a limit, ``None`` clears it.

    A new budget gets the table's default thresholds and hard stop, and no limit where
    one is ``UNSET``. Raises ``ValueError`` for a negative limit.
    """
    for name, value in (("daily", daily), ("monthly", monthly)):
        if isinstance(value, Decimal) and value < 0:
            raise ValueError(f"{name} limit must not be negative, got {value}")
    record = await conn.fetchrow(
        _UPDATE_LIMITS,
        tenant,
        service,
        use_case,
        None if daily is UNSET else daily,
        None if monthly is UNSET else monthly,
        daily is not UNSET,
        monthly is not UNSET,
    )
    assert record is not None  # RETURNING always yields the row
    return budget_of(record)


async def delete_budget(conn: Conn, tenant: str, service: str = "", use_case: str = "") -> bool:
    """Delete the budget with exactly this key; whether there was one."""
    record = await conn.fetchrow(
        f"DELETE FROM budgets WHERE {_KEY} RETURNING tenant_id", tenant, service, use_case
    )
    return record is not None
