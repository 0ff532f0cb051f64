"""Cost summaries, savings by lever, the CSV export and the month forecast."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from frugalflow.events import Path
from frugalflow.reports import (
    DIMENSIONS,
    EXPORT_COLUMNS,
    DailySpend,
    cost_summary,
    daily_spend,
    export_rows,
    forecast_month,
    project_month,
    savings_by_lever,
)
from frugalflow.reports import export as export_module
from frugalflow.sink.store import CostStore
from tests.reports.factories import event

START, END = date(2026, 3, 1), date(2026, 3, 31)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


async def seed(store: CostStore, tenant: str) -> None:
    await store.insert(
        [
            event(tenant, occurred_at=at(1), cost="1.00", baseline="2.00",
                  savings={"batch": "0.75", "prompt_cache": "0.25"}),
            event(tenant, occurred_at=at(2), model="claude-haiku-4-5", use_case="search",
                  cost="0.50", baseline="0.50"),
            event(tenant, occurred_at=at(2), path=Path.BATCH, provider="openai",
                  model="gpt-5-mini", service=None, cost="0.25", baseline="0.50",
                  savings={"batch": "0.25"}, input_tokens=10, output_tokens=20,
                  cache_read_tokens=30, cache_write_tokens=40),
            event(tenant, occurred_at=at(3), path=Path.RESPONSE_CACHE, provider=None,
                  model=None, cost="0", baseline="1.00", savings={"response_cache": "1.00"}),
            event(tenant, occurred_at=datetime(2026, 4, 1, tzinfo=UTC), cost="9"),  # outside
        ]
    )  # fmt: skip


async def test_totals_and_savings_percentage(store: CostStore, tenant: str) -> None:
    await seed(store, tenant)
    summary = await cost_summary(store.pool, start=START, end=END, tenant=tenant)
    t = summary.totals
    assert (t.requests, t.successes) == (4, 4)
    assert t.cost_usd == Decimal("1.75")
    assert t.baseline_cost_usd == Decimal("4.00")
    assert t.savings_usd.batch == Decimal("1.00")
    assert t.savings_total_usd == Decimal("2.25")
    assert t.savings_pct == Decimal("56.25")
    assert (t.input_tokens, t.output_tokens) == (3010, 320)
    assert (t.cache_read_tokens, t.cache_write_tokens) == (30, 40)
    assert len(summary.rows) == 1 and summary.rows[0].key == {}


@pytest.mark.parametrize("dimension", DIMENSIONS)
async def test_group_by_each_dimension(store: CostStore, dimension: str) -> None:
    tenant = f"group-{dimension}"
    await seed(store, tenant)
    summary = await cost_summary(
        store.pool, start=START, end=END, tenant=tenant, group_by=[dimension]
    )
    expected = {
        "tenant": {tenant: Decimal("1.75")},
        "provider": {"anthropic": Decimal("1.50"), "openai": Decimal("0.25"), None: 0},
        "model": {
            "claude-sonnet-4-5": Decimal("1.00"),
            "claude-haiku-4-5": Decimal("0.50"),
            "gpt-5-mini": Decimal("0.25"),
            None: 0,
        },
        "service": {"svc": Decimal("1.50"), None: Decimal("0.25")},
        "use_case": {"chat": Decimal("1.25"), "search": Decimal("0.50")},
        "path": {"immediate": Decimal("1.50"), "batch": Decimal("0.25"), "response_cache": 0},
        "day": {date(2026, 3, 1): Decimal("1.00"), date(2026, 3, 2): Decimal("0.75"),
                date(2026, 3, 3): 0},
    }[dimension]  # fmt: skip
    assert {r.key[dimension]: r.totals.cost_usd for r in summary.rows} == expected
    costs = [r.totals.cost_usd for r in summary.rows]
    assert costs == sorted(costs, reverse=True)  # most expensive first
    assert summary.totals.cost_usd == Decimal("1.75")
    assert sum(r.totals.requests for r in summary.rows) == 4


async def test_group_by_several_and_all_tenants(store: CostStore, tenant: str) -> None:
    await seed(store, tenant)
    summary = await cost_summary(
        store.pool, start=START, end=END, tenant=None, group_by=["tenant", "model", "day"]
    )
    mine = [r for r in summary.rows if r.key["tenant"] == tenant]
    assert len(mine) == 4
    assert list(mine[0].key) == ["tenant", "model", "day"]
    with pytest.raises(ValueError, match="cannot group by"):
        await cost_summary(store.pool, start=START, end=END, group_by=["colour"])


async def test_savings_by_lever(store: CostStore, tenant: str) -> None:
    await seed(store, tenant)
    report = await savings_by_lever(store.pool, START, END, tenant)
    assert [(s.lever, s.savings_usd) for s in report.levers] == [
        ("batch", Decimal("1.00")),
        ("response_cache", Decimal("1.00")),
        ("prompt_cache", Decimal("0.25")),
        ("flex", Decimal(0)),
        ("pattern", Decimal(0)),
        ("routing", Decimal(0)),
    ]
    assert report.levers[0].pct_of_baseline == Decimal("25.00")
    assert report.savings_usd == Decimal("2.25")
    assert report.savings_pct == Decimal("56.25")
    assert report.model_dump(mode="json")["savings_usd"] == "2.2500000000"


async def test_export_streams_header_and_rows(
    store: CostStore, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(store, tenant)
    monkeypatch.setattr(export_module, "PREFETCH", 2)  # several round trips
    lines = [line async for line in export_rows(store.pool, START, END, tenant)]
    assert lines[0] == ",".join(EXPORT_COLUMNS) + "\n"
    assert all(line.endswith("\n") for line in lines)
    rows = list(csv.DictReader(io.StringIO("".join(lines))))
    assert len(rows) == 4  # April is outside the range
    assert [r["occurred_at"][:10] for r in rows] == [
        "2026-03-01", "2026-03-02", "2026-03-02", "2026-03-03",
    ]  # fmt: skip
    assert sum(Decimal(r["cost_usd"]) for r in rows) == Decimal("1.75")
    batch = next(r for r in rows if r["path"] == "batch")
    assert (batch["service"], batch["model"], batch["success"]) == ("", "gpt-5-mini", "true")
    assert batch["cache_write_tokens"] == "40"

    async with store.pool.acquire() as conn:  # a connection outside a transaction works too
        lines = [line async for line in export_rows(conn, START, END, tenant)]
        assert len(lines) == 5
        empty = [line async for line in export_rows(conn, date(2020, 1, 1), date(2020, 1, 2))]
        assert empty == [lines[0]]


async def test_daily_spend_and_forecast(store: CostStore, tenant: str) -> None:
    today = date(2026, 3, 20)
    window = [
        event(tenant, occurred_at=datetime(2026, 3, 20 - d, tzinfo=UTC), cost="7.00")
        for d in range(7)  # 7 days x $7 in the window
    ]
    earlier = event(tenant, occurred_at=at(1), cost="100")  # March, before the window
    events = [*window, earlier]
    await store.insert(events)

    spend = await daily_spend(store.pool, tenant, 10, today=today)
    assert [s.day for s in spend] == [today - timedelta(days=d) for d in range(9, -1, -1)]
    assert [s.cost_usd for s in spend[-7:]] == [Decimal(7)] * 7
    assert [s.cost_usd for s in spend[:3]] == [0, 0, 0]

    forecast = await forecast_month(store.pool, tenant, today=today)
    assert forecast.days_in_month == 31
    assert forecast.daily_average_usd == Decimal(7)
    assert forecast.forecast_usd == Decimal(7 * 31)
    assert forecast.month_to_date_usd == Decimal(149)

    feb = project_month(
        [DailySpend(day=date(2026, 2, d), requests=1, cost_usd=Decimal(d),
                    baseline_cost_usd=Decimal(d), savings_usd=Decimal(0)) for d in range(1, 11)],
        tenant=None, today=date(2026, 2, 10), window_days=7,
    )  # fmt: skip
    assert feb.daily_average_usd == Decimal(4 + 5 + 6 + 7 + 8 + 9 + 10) / 7
    assert feb.forecast_usd == feb.daily_average_usd * 28
    assert feb.month_to_date_usd == Decimal(55)
