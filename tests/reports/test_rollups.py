"""Rollups are maintained by the sink's insert: exactly the newly inserted rows, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from frugalflow.events import CostEvent, Path
from frugalflow.sink.store import CostStore
from tests.reports.factories import event

KEY = "tenant_id, day, provider, model, path, service, use_case"
SUMS = (
    "count(*) AS requests, count(*) FILTER (WHERE success) AS successes, "
    "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
    "sum(cache_write_tokens) AS cache_write_tokens, sum(cache_read_tokens) AS cache_read_tokens, "
    "sum(cost_usd) AS cost_usd, sum(baseline_cost_usd) AS baseline_cost_usd, "
    "sum(savings_batch) AS savings_batch, sum(savings_prompt_cache) AS savings_prompt_cache, "
    "sum(savings_response_cache) AS savings_response_cache, "
    "sum(savings_pattern) AS savings_pattern, sum(savings_routing) AS savings_routing"
)
COLUMNS = (
    "requests", "successes", "input_tokens", "output_tokens", "cache_write_tokens",
    "cache_read_tokens", "cost_usd", "baseline_cost_usd", "savings_batch",
    "savings_prompt_cache", "savings_response_cache", "savings_pattern", "savings_routing",
)  # fmt: skip


async def rollups_and_raw(store: CostStore, tenant: str) -> tuple[dict, dict]:
    raw = await store.pool.fetch(
        f"SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,"
        f" COALESCE(provider, '') AS provider, COALESCE(model, '') AS model, path,"
        f" COALESCE(service, '') AS service, COALESCE(use_case, '') AS use_case, {SUMS}"
        f" FROM cost_events WHERE tenant_id = $1 GROUP BY 1, 2, 3, 4, 5, 6, 7",
        tenant,
    )
    rolled = await store.pool.fetch(
        f"SELECT {KEY}, {', '.join(COLUMNS)} FROM cost_rollups WHERE tenant_id = $1", tenant
    )
    keys = KEY.split(", ")

    def table(records: list) -> dict:
        return {tuple(r[k] for k in keys): tuple(Decimal(r[c]) for c in COLUMNS) for r in records}

    return table(rolled), table(raw)


async def test_rollups_count_each_event_once(store: CostStore, tenant: str) -> None:
    day = datetime(2026, 3, 10, 23, 59, tzinfo=UTC)
    events = [
        event(tenant, occurred_at=day, savings={"batch": "0.001"}),
        event(tenant, occurred_at=day + timedelta(minutes=2)),  # the next UTC day
        event(tenant, occurred_at=day, service=None, use_case=None),
        event(tenant, occurred_at=day, path=Path.RESPONSE_CACHE, provider=None, model=None),
        event(tenant, occurred_at=day, success=False, cost="0", baseline="0.002"),
    ]
    first = await store.insert([*events, events[0]])  # a duplicate inside the batch
    assert first == {e.event_id for e in events}
    assert await store.insert(events[:3]) == set()  # redelivered: nothing new
    new = event(tenant, occurred_at=day, cost="0.5")
    assert await store.insert([events[1], new]) == {new.event_id}

    rolled, raw = await rollups_and_raw(store, tenant)
    assert rolled == raw
    assert len(rolled) == 4  # the NULL attribution is its own key, not merged or lost
    total = await store.pool.fetchval(
        "SELECT sum(requests) FROM cost_rollups WHERE tenant_id = $1", tenant
    )
    assert total == 6


async def test_migrations_are_applied_once(store: CostStore) -> None:
    assert await store.migrate() == []
    names = await store.pool.fetch("SELECT name FROM schema_migrations ORDER BY name")
    assert [r["name"] for r in names][:2] == [
        "0001_cost_events.sql",
        "0002_rollups_budgets_experiments.sql",
    ]
    budget = await store.pool.fetchrow(
        "INSERT INTO budgets (tenant_id, monthly_limit_usd) VALUES ($1, 10) RETURNING *",
        f"b-{uuid.uuid4().hex[:6]}",
    )
    assert budget["alert_thresholds"] == [Decimal("0.8"), Decimal("1.0")]
    assert budget["hard_stop_ratio"] == Decimal("1.5")
    assert (budget["service"], budget["use_case"]) == ("", "")


_templates: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    use_case=st.sampled_from([None, "chat", "search"]),
    model=st.sampled_from(["claude-haiku-4-5", "gpt-5-mini"]),
    path=st.sampled_from([Path.IMMEDIATE, Path.BATCH, Path.RESPONSE_CACHE]),
    input_tokens=st.integers(0, 10_000),
    cache_read_tokens=st.integers(0, 5_000),
    cost=st.decimals("0", "3", places=10).map(str),
    savings=st.fixed_dictionaries({"prompt_cache": st.decimals("0", "1", places=10).map(str)}),
    success=st.booleans(),
    day=st.integers(0, 2),
)


@settings(max_examples=60)
@given(
    templates=st.lists(_templates, min_size=1, max_size=8),
    picks=st.lists(st.lists(st.integers(0, 7), max_size=10), min_size=1, max_size=4),
)
async def test_rollup_totals_equal_distinct_raw_rows(
    store: CostStore, templates: list[dict], picks: list[list[int]]
) -> None:
    tenant = f"prop-{uuid.uuid4().hex[:8]}"
    events: list[CostEvent] = []
    for i, t in enumerate(templates):
        t = dict(t)
        day = t.pop("day")
        events.append(
            event(
                tenant,
                event_id=f"{tenant}-{i}",
                occurred_at=datetime(2026, 3, 10, tzinfo=UTC) + timedelta(days=day),
                **t,
            )
        )
    stored: set[str] = set()
    for batch in picks:  # several deliveries, each with repeats of earlier events
        chosen = [events[i % len(events)] for i in batch]
        new = await store.insert(chosen)
        assert not new & stored
        stored |= new
    assert stored == {events[i % len(events)].event_id for b in picks for i in b}

    rolled, raw = await rollups_and_raw(store, tenant)
    assert rolled == raw
    expected_cost = sum(
        (e.cost_usd for e in {e.event_id: e for e in events}.values() if e.event_id in stored),
        Decimal(0),
    )
    total = await store.pool.fetchval(
        "SELECT COALESCE(sum(cost_usd), 0) FROM cost_rollups WHERE tenant_id = $1", tenant
    )
    assert total == expected_cost
