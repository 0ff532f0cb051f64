"""The report tools over stdio: tool listing and schemas, numbers equal to what was stored."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from frugalflow.events import CostEvent
from frugalflow.events import Path as RequestPath
from frugalflow.sink.store import CostStore
from tests.mcp.client import call_ok, mcp_session
from tests.reports.factories import event

TOOLS = {
    "cost_summary",
    "savings",
    "recommendations",
    "get_budget",
    "list_budgets",
    "set_budget",
    "spend_status",
}
MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)


def crafted(tenant: str, when: datetime) -> list[CostEvent]:
    return [
        event(tenant, occurred_at=when, model="claude-sonnet-4-6", cost="0.0100",
              baseline="0.0200", savings={"batch": "0.0100"}, path=RequestPath.BATCH),
        event(tenant, occurred_at=when, model="claude-sonnet-4-6", cost="0.0300",
              baseline="0.0300"),
        event(tenant, occurred_at=when, model="claude-haiku-4-5", cost="0.0025",
              baseline="0.0040", savings={"prompt_cache": "0.0015"}, input_tokens=500,
              cache_read_tokens=2000),
    ]  # fmt: skip


async def test_lists_the_tools_with_input_schemas(mcp_dsn: str, tmp_path: Path) -> None:
    with (tmp_path / "server.log").open("w") as log:
        async with mcp_session(mcp_dsn, log) as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
    summary = tools["cost_summary"].input_schema["properties"]
    assert set(summary) == {"tenant", "start", "end", "group_by"}
    assert summary["group_by"]["items"]["enum"] == [
        "tenant", "provider", "model", "service", "use_case", "path", "day",
    ]  # fmt: skip
    assert {"format": "date", "type": "string"} in summary["start"]["anyOf"]
    assert tools["set_budget"].input_schema["required"] == ["tenant"]
    assert tools["spend_status"].input_schema["required"] == ["tenant"]
    assert tools["list_budgets"].input_schema["properties"] == {}
    assert tools["set_budget"].annotations and not tools["set_budget"].annotations.read_only_hint
    assert tools["savings"].annotations and tools["savings"].annotations.read_only_hint


async def test_cost_summary_equals_the_inserted_sums(
    store: CostStore, mcp_dsn: str, tenant: str, tmp_path: Path
) -> None:
    events = crafted(tenant, MARCH)
    now = datetime.now(UTC)
    todays = crafted(tenant, now)
    await store.insert([*events, *todays, *crafted(f"{tenant}-other", MARCH)])

    with (tmp_path / "server.log").open("w") as log:
        async with mcp_session(mcp_dsn, log) as session:
            march = await call_ok(
                session, "cost_summary", tenant=tenant, start="2026-03-01", end="2026-03-31",
                group_by=["model", "path"],
            )  # fmt: skip
            month_to_date = await call_ok(session, "cost_summary", tenant=tenant)
            everyone = await call_ok(
                session, "cost_summary", start="2026-03-10", end="2026-03-10", group_by=["tenant"]
            )

    assert (march["tenant"], march["start"], march["end"]) == (tenant, "2026-03-01", "2026-03-31")
    totals = march["totals"]
    assert totals["requests"] == 3
    assert Decimal(totals["cost_usd"]) == sum(e.cost_usd for e in events)
    assert Decimal(totals["baseline_cost_usd"]) == sum(e.baseline_cost_usd for e in events)
    assert Decimal(totals["savings_total_usd"]) == Decimal("0.0115")
    assert Decimal(totals["savings_usd"]["batch"]) == Decimal("0.0100")
    assert Decimal(totals["savings_usd"]["prompt_cache"]) == Decimal("0.0015")
    assert totals["cache_read_tokens"] == 2000
    rows = {(r["key"]["model"], r["key"]["path"]): Decimal(r["totals"]["cost_usd"])
            for r in march["rows"]}  # fmt: skip
    assert rows == {
        ("claude-sonnet-4-6", "immediate"): Decimal("0.0300"),
        ("claude-sonnet-4-6", "batch"): Decimal("0.0100"),
        ("claude-haiku-4-5", "immediate"): Decimal("0.0025"),
    }
    assert march["rows"][0]["key"]["model"] == "claude-sonnet-4-6"  # most expensive first

    today = now.date()
    assert (month_to_date["start"], month_to_date["end"]) == (
        today.replace(day=1).isoformat(),
        today.isoformat(),
    )
    assert Decimal(month_to_date["totals"]["cost_usd"]) == sum(e.cost_usd for e in todays)
    assert month_to_date["rows"][0]["key"] == {}

    by_tenant = {r["key"]["tenant"]: Decimal(r["totals"]["cost_usd"]) for r in everyone["rows"]}
    assert by_tenant[tenant] == by_tenant[f"{tenant}-other"] == Decimal("0.0425")


async def test_savings_and_recommendations(
    store: CostStore, mcp_dsn: str, tenant: str, tmp_path: Path
) -> None:
    events = crafted(tenant, MARCH)
    await store.insert(events)
    period = {"tenant": tenant, "start": "2026-03-10", "end": "2026-03-10"}

    with (tmp_path / "server.log").open("w") as log:
        async with mcp_session(mcp_dsn, log) as session:
            savings = await call_ok(session, "savings", **period)
            recs = await call_ok(session, "recommendations", **period)

    assert Decimal(savings["savings_usd"]) == Decimal("0.0115")
    assert Decimal(savings["baseline_cost_usd"]) - Decimal(savings["cost_usd"]) == Decimal("0.0115")
    assert [lever["lever"] for lever in savings["levers"]][:2] == ["batch", "prompt_cache"]
    assert (recs["tenant"], recs["start"], recs["end"]) == (tenant, "2026-03-10", "2026-03-10")
    [batch] = [r for r in recs["recommendations"] if r["kind"] == "batch_path"]
    # Immediate Sonnet and Haiku traffic ($0.0325 that day) at the 50 % batch discount, x 30.
    expected = (Decimal("0.0325") / 2 * 30).quantize(Decimal("0.01"))
    assert Decimal(batch["estimated_monthly_saving_usd"]) == expected
    assert batch["tenant_id"] == tenant and 0 < batch["confidence"] < 1


def test_month_start_default_follows_end() -> None:
    from frugalflow.mcp.inputs import Period

    period = Period.model_validate({"end": "2026-02-17"})
    assert period.bounds() == (date(2026, 2, 1), date(2026, 2, 17))
