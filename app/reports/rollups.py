"""Reading ``cost_rollups``: the sums every report selects, and a record → ``Totals``.

Rollup rows store a missing attribution (service, use case, provider, model) as ``''``;
reports give it back as ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg

from frugalflow.events import Savings
from frugalflow.reports.models import Totals

# Anything with asyncpg's ``fetch``: a connection or a pool.
Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool

LEVERS: tuple[str, ...] = tuple(Savings.model_fields)
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
COUNT_COLUMNS = ("requests", "successes", *TOKEN_COLUMNS)
MONEY_COLUMNS = ("cost_usd", "baseline_cost_usd", *(f"savings_{lever}" for lever in LEVERS))

SUMS_SQL = ", ".join(
    f"COALESCE(sum({column}), 0) AS {column}" for column in (*COUNT_COLUMNS, *MONEY_COLUMNS)
)

# Rollup columns per report dimension (``tenant`` is ``tenant_id`` in the tables).
DIMENSION_COLUMNS: Mapping[str, str] = {
    "tenant": "tenant_id",
    "provider": "provider",
    "model": "model",
    "service": "service",
    "use_case": "use_case",
    "path": "path",
    "day": "day",
}
# Dimensions whose ``''`` means "not attributed".
ATTRIBUTIONS = frozenset({"provider", "model", "service", "use_case"})


def totals_of(record: Mapping[str, Any]) -> Totals:
    """A record holding the ``SUMS_SQL`` columns → ``Totals``."""
    return Totals(
        **{column: int(record[column]) for column in COUNT_COLUMNS},
        cost_usd=Decimal(record["cost_usd"]),
        baseline_cost_usd=Decimal(record["baseline_cost_usd"]),
        savings_usd=Savings(**{lever: Decimal(record[f"savings_{lever}"]) for lever in LEVERS}),
    )


def attribution(value: str | None) -> str | None:
    """A rollup's ``''`` (not attributed) → ``None``."""
    return value or None
