"""CSV export of raw cost events, streamed from a server-side cursor."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from frugalflow.reports.periods import utc_bounds

EXPORT_COLUMNS: tuple[str, ...] = (
    "event_id", "request_id", "tenant_id", "service", "use_case", "provider", "model", "path",
    "input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens", "cost_usd",
    "baseline_cost_usd", "savings_batch", "savings_prompt_cache", "savings_response_cache",
    "savings_pattern", "savings_routing", "savings_flex", "success", "occurred_at",
    "provider_reported_cost_usd", "cost_mismatch",
)  # fmt: skip

_QUERY = f"""
SELECT {", ".join(EXPORT_COLUMNS)} FROM cost_events
WHERE occurred_at >= $1 AND occurred_at < $2 AND ($3::text IS NULL OR tenant_id = $3)
ORDER BY occurred_at, event_id
"""

PREFETCH = 500  # rows per round trip; memory stays bounded by this, not by the range


async def export_rows(
    conn: asyncpg.Connection | asyncpg.Pool,
    start: date,
    end: date,
    tenant: str | None = None,
) -> AsyncIterator[str]:
    """CSV lines (header first, each ending in ``\\n``) of the cost events of ``start..end``
    (inclusive UTC days), oldest first. Money is exact decimal text, times are ISO 8601."""
    low, high = utc_bounds(start, end)
    yield _line(EXPORT_COLUMNS)
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as acquired:
            async for line in _stream(acquired, low, high, tenant):
                yield line
    else:
        async for line in _stream(conn, low, high, tenant):
            yield line


async def _stream(
    conn: asyncpg.Connection, low: datetime, high: datetime, tenant: str | None
) -> AsyncIterator[str]:
    if conn.is_in_transaction():  # a cursor lives inside a transaction: reuse the caller's
        async for record in conn.cursor(_QUERY, low, high, tenant, prefetch=PREFETCH):
            yield _line(_cell(v) for v in record.values())
        return
    async with conn.transaction(readonly=True):
        async for record in conn.cursor(_QUERY, low, high, tenant, prefetch=PREFETCH):
            yield _line(_cell(v) for v in record.values())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _line(cells: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()
