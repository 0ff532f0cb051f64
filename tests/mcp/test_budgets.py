"""Budgets over stdio: set, get, list, and spend status against them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from frugalflow.sink.store import CostStore
from tests.mcp.client import call_ok, mcp_session
from tests.reports.factories import event


async def test_set_budget_then_get_budget(mcp_dsn: str, tenant: str, tmp_path: Path) -> None:
    with (tmp_path / "server.log").open("w") as log:
        async with mcp_session(mcp_dsn, log) as session:
            before = await call_ok(session, "get_budget", tenant=tenant)
            created = await call_ok(
                session, "set_budget", tenant=tenant, daily_limit_usd=25, monthly_limit_usd="500.50"
            )
            got = await call_ok(session, "get_budget", tenant=tenant)
            # A limit left out keeps its value; null removes one.
            await call_ok(session, "set_budget", tenant=tenant, daily_limit_usd=30)
            updated = await call_ok(session, "get_budget", tenant=tenant)
            await call_ok(session, "set_budget", tenant=tenant, daily_limit_usd=None)
            cleared = await call_ok(session, "get_budget", tenant=tenant)
            narrow = await call_ok(
                session, "set_budget", tenant=tenant, service="search", monthly_limit_usd=0.25
            )
            other_scope = await call_ok(session, "get_budget", tenant=tenant, service="search")
            listed = await call_ok(session, "list_budgets")

    assert before == {"tenant": tenant, "service": None, "use_case": None, "budget": None}
    budget = got["budget"]
    assert budget == created["budget"]
    assert (budget["tenant_id"], budget["service"], budget["use_case"]) == (tenant, None, None)
    assert Decimal(budget["daily_limit_usd"]) == 25
    assert Decimal(budget["monthly_limit_usd"]) == Decimal("500.50")
    assert [Decimal(t) for t in budget["alert_thresholds"]] == [Decimal("0.8"), Decimal("1.0")]
    assert Decimal(budget["hard_stop_ratio"]) == Decimal("1.5")
    assert Decimal(updated["budget"]["daily_limit_usd"]) == 30
    assert Decimal(updated["budget"]["monthly_limit_usd"]) == Decimal("500.50")
    assert cleared["budget"]["daily_limit_usd"] is None
    assert Decimal(cleared["budget"]["monthly_limit_usd"]) == Decimal("500.50")
    assert other_scope["budget"] == narrow["budget"]
    assert other_scope["budget"]["service"] == "search"
    assert Decimal(other_scope["budget"]["monthly_limit_usd"]) == Decimal("0.25")
    mine = [(b["service"], b["use_case"]) for b in listed["budgets"] if b["tenant_id"] == tenant]
    assert mine == [(None, None), ("search", None)]
    assert listed["truncated"] is False


async def test_spend_status_uses_the_budgets(
    store: CostStore, mcp_dsn: str, tenant: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    await store.insert(
        [event(tenant, occurred_at=now, service="search", cost="2.00", baseline="2.00"),
         event(tenant, occurred_at=now, service="chat", cost="1.00", baseline="1.00")]
    )  # fmt: skip

    with (tmp_path / "server.log").open("w") as log:
        async with mcp_session(mcp_dsn, log) as session:
            unbudgeted = await call_ok(session, "spend_status", tenant=tenant)
            await call_ok(
                session, "set_budget", tenant=tenant, daily_limit_usd="2.5", monthly_limit_usd=1000
            )
            await call_ok(session, "set_budget", tenant=tenant, service="search", daily_limit_usd=1)
            status = await call_ok(session, "spend_status", tenant=tenant)

    assert unbudgeted["state"] == "no_budget" and unbudgeted["budgets"] == []
    assert Decimal(unbudgeted["today_usd"]) == 3
    assert status["tenant"] == tenant and status["today"] == now.date().isoformat()
    assert Decimal(status["today_usd"]) == 3
    assert Decimal(status["forecast"]["month_to_date_usd"]) == 3
    days = status["forecast"]["days_in_month"]
    assert Decimal(status["forecast"]["forecast_usd"]) == Decimal(3) / 7 * days

    whole, search = status["budgets"]
    assert (whole["service"], search["service"]) == (None, "search")
    # The tenant: $3 today against $2.50 (120 %: over the limit, under the 1.5 hard stop).
    assert whole["daily"]["state"] == "over_limit"
    assert Decimal(whole["daily"]["used_pct"]) == Decimal("120.00")
    assert whole["monthly"]["state"] == "ok"
    assert Decimal(whole["monthly"]["spent_usd"]) == 3
    assert whole["state"] == "over_limit"
    # Service "search": $2 today against $1 (200 %: past the hard stop); no monthly limit.
    assert Decimal(search["today_usd"]) == 2
    assert search["daily"]["state"] == "hard_stop" and search["monthly"] is None
    assert status["state"] == "hard_stop"
