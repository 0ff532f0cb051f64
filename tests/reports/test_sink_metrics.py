"""The sink's Prometheus counters equal what the stored rows say, once per row.

``CostStore.insert_with_totals`` sums the newly inserted rows in Postgres and
``frugalflow.sink.metrics.count`` adds those sums: a redelivered event counts nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from frugalflow.events import CostEvent, Path
from frugalflow.sink.metrics import count
from frugalflow.sink.store import LEVERS, TOKEN_CLASSES, CostStore, _batch_json
from tests.reports.factories import event

Sample = tuple[str, tuple[tuple[str, str], ...]]


def snapshot(provider: str) -> dict[Sample, float]:
    """Every sample the sink counts: those labelled by ``provider`` or by none (``""``) and
    the unlabelled or lever / token class ones (other tests share some: compare deltas)."""
    names = {
        "frugalflow_cost_usd_total", "frugalflow_baseline_usd_total",
        "frugalflow_savings_usd_total", "frugalflow_tokens_total",
        "frugalflow_provider_reported_cost_usd_total", "frugalflow_provider_cost_mismatch_total",
        "frugalflow_cost_events_stored_total",
    }  # fmt: skip
    found: dict[Sample, float] = {}
    for family in REGISTRY.collect():
        for s in family.samples:
            if s.name in names and s.labels.get("provider", provider) in (provider, ""):
                found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def delta(before: dict[Sample, float], after: dict[Sample, float]) -> dict[Sample, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


def key(name: str, **labels: str) -> Sample:
    return (name, tuple(sorted(labels.items())))


async def expected_from_rows(store: CostStore, tenant: str) -> dict[Sample, float]:
    """What the counters must have added: computed from the stored rows, in Python."""
    rows = await store.pool.fetch("SELECT * FROM cost_events WHERE tenant_id = $1", tenant)
    want: dict[Sample, float] = {}

    def add(sample: Sample, amount: Decimal | int) -> None:
        want[sample] = want.get(sample, 0.0) + float(amount)

    for r in rows:
        provider, model = r["provider"] or "", r["model"] or ""
        add(key("frugalflow_cost_usd_total", provider=provider, model=model, path=r["path"]),
            r["cost_usd"])  # fmt: skip
        add(key("frugalflow_baseline_usd_total"), r["baseline_cost_usd"])
        add(key("frugalflow_cost_events_stored_total"), 1)
        if r["provider_reported_cost_usd"] is not None:
            add(key("frugalflow_provider_reported_cost_usd_total", provider=provider),
                r["provider_reported_cost_usd"])  # fmt: skip
            if r["cost_mismatch"]:
                add(key("frugalflow_provider_cost_mismatch_total", provider=provider,
                        model=model), 1)  # fmt: skip
        for lever in LEVERS:
            if r[f"savings_{lever}"] > 0:
                add(key("frugalflow_savings_usd_total", lever=lever), r[f"savings_{lever}"])
        for token_class in TOKEN_CLASSES:
            if r[token_class]:
                add(key("frugalflow_tokens_total", token_class=token_class), r[token_class])
    return {sample: value for sample, value in want.items() if value}  # 0: no delta seen


def assert_counted(got: dict[Sample, float], want: dict[Sample, float]) -> None:
    assert got.keys() == want.keys()
    for sample, value in want.items():
        assert got[sample] == pytest.approx(value, rel=1e-9), sample


def batch(tenant: str, provider: str) -> list[CostEvent]:
    day = datetime(2026, 3, 10, 12, tzinfo=UTC)
    reported = {"provider_reported_cost_usd": Decimal("0.0045"), "cost_mismatch": False}
    return [
        event(tenant, provider=provider, model="m1", occurred_at=day,
              savings={"batch": "0.001", "prompt_cache": "0.0005"}, cache_read_tokens=512),
        event(tenant, provider=provider, model="m1", path=Path.BATCH, cost="0.000000123",
              savings={"batch": "0.25"}),
        event(tenant, provider=provider, model="m2", savings={"flex": "-0.002"},
              cache_write_tokens=2048),  # billed at priority: no savings counted
        event(tenant, provider=provider, model="m2", success=False, cost="0", baseline="0.002",
              output_tokens=0),
        event(tenant, provider=None, model=None, path=Path.RESPONSE_CACHE, cost="0",
              savings={"response_cache": "0.003"}),
        event(tenant, provider=provider, model="m1").model_copy(update=reported),
        event(tenant, provider=provider, model="m2").model_copy(
            update={"provider_reported_cost_usd": Decimal("0.009"), "cost_mismatch": True}
        ),
    ]  # fmt: skip


async def test_counters_equal_the_stored_rows_and_redeliveries_count_nothing(
    store: CostStore, tenant: str
) -> None:
    provider = f"prov-{uuid.uuid4().hex[:8]}"
    events = batch(tenant, provider)
    before = snapshot(provider)
    count(await store.insert_with_totals([*events, events[0]]))  # a duplicate in the batch
    first = delta(before, snapshot(provider))
    assert_counted(first, await expected_from_rows(store, tenant))
    assert first[key("frugalflow_cost_events_stored_total")] == len(events)
    assert key("frugalflow_savings_usd_total", lever="flex") not in first  # only negative
    assert first[key("frugalflow_provider_cost_mismatch_total", provider=provider,
                     model="m2")] == 1  # fmt: skip

    again = snapshot(provider)
    assert await store.insert_with_totals(events[:4]) == []  # redelivered: nothing new
    count([])
    assert snapshot(provider) == again

    new = event(tenant, provider=provider, model="m3", cost="0.5", savings={"routing": "0.1"})
    count(await store.insert_with_totals([events[1], new, events[5]]))
    assert_counted(delta(before, snapshot(provider)), await expected_from_rows(store, tenant))
    assert delta(again, snapshot(provider))[key("frugalflow_cost_events_stored_total")] == 1


async def test_totals_are_per_provider_model_and_path(store: CostStore, tenant: str) -> None:
    provider = f"prov-{uuid.uuid4().hex[:8]}"
    events = batch(tenant, provider)
    totals = await store.insert_with_totals(events)
    by_key = {(t.provider, t.model, t.path): t for t in totals}
    assert set(by_key) == {
        (provider, "m1", "immediate"), (provider, "m1", "batch"), (provider, "m2", "immediate"),
        ("", "", "response_cache"),
    }  # fmt: skip
    m2 = by_key[(provider, "m2", "immediate")]
    assert (m2.events, m2.cost_mismatches, m2.provider_reported_cost_usd) == (
        3, 1, Decimal("0.009")
    )  # fmt: skip
    assert m2.savings == {}  # the flex premium is negative, nothing else saved
    assert m2.tokens["cache_write_tokens"] == 2048
    assert by_key[("", "", "response_cache")].provider_reported_cost_usd is None
    assert by_key[(provider, "m1", "batch")].cost_usd == Decimal("0.000000123")
    assert await store.insert(events) == set()  # the plain insert agrees: nothing new


def test_the_batch_json_is_each_events_json_in_plain_notation() -> None:
    events = batch("t", "p")
    events[1] = events[1].model_copy(update={"cost_usd": Decimal("1E-7")})
    assert _batch_json(events) == "[" + ",".join(e.model_dump_json() for e in events) + "]"
    assert '"cost_usd":"0.0000001"' in _batch_json(events)  # the contract: never "1E-7"
    assert _batch_json(()) == "[]"
