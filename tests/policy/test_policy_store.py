"""Tenant policy documents and route outcomes in a real Postgres (a fresh schema)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from frugalflow.experiments.models import RouteOutcome
from frugalflow.policy import store as policies
from frugalflow.policy.models import TenantPolicy
from frugalflow.policy.snapshot import DEFAULT_TENANT
from frugalflow.policy.store import InvalidPolicy, merge_sections, validate_document
from frugalflow.reports.budgets import Budget, put_budget
from frugalflow.sink.store import CostStore
from tests.api.conftest import schema_dsn, store
from tests.reports.factories import event

__all__ = ["schema_dsn", "store"]  # the API tests' fresh-schema fixtures

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


# --- validation


def test_a_partial_document_is_valid_as_sent() -> None:
    document = {"rate_limits": {"requests_per_minute": 60}, "safety": {"pii": "block"}}
    assert validate_document(document) is document
    assert validate_document({}) == {}


@pytest.mark.parametrize(
    ("document", "where", "unknown"),
    [
        ({"surprise": {}}, "surprise", True),
        ({"safety": {"pii": "redact", "nope": 1}}, "safety.nope", True),
        ({"safety": {"pii": "shout"}}, "safety.pii", False),
        ({"rate_limits": {"requests_per_minute": 0}}, "rate_limits.requests_per_minute", False),
        ({"cache": {"semantic_threshold": 1.5}}, "cache.semantic_threshold", False),
        ({"router": 7}, "router", False),
        ({"router": {"tier_models": {"openai": {"small": "gpt-imaginary"}}}},
         "router.tier_models", False),
        ({"router": {"tier_models": {"openai": {"small": "claude-haiku-4-5"}}}},
         "router.tier_models", False),
        ({"safety": {"sensitive_keywords": ["ok", "nul\x00"]}}, "safety.sensitive_keywords.1",
         False),
        ({"fallback": {"static_templates": {"*": "\ud800"}}}, "fallback.static_templates.*",
         False),
        ({"cache": {"semantic_threshold": float("nan")}}, "cache.semantic_threshold", False),
    ],
)  # fmt: skip
def test_invalid_documents_name_the_field(
    document: dict[str, Any], where: str, unknown: bool
) -> None:
    with pytest.raises(InvalidPolicy) as raised:
        validate_document(document)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(f"{where}: ")
    assert raised.value.unknown_field is unknown
    assert ".".join(raised.value.errors[0]["loc"]) == where


@pytest.mark.parametrize("document", [[], "policy", None, 3])
def test_a_document_is_an_object(document: object) -> None:
    with pytest.raises(InvalidPolicy, match="JSON object"):
        validate_document(document)


def test_every_error_is_reported() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        validate_document({"safety": {"pii": "x", "injection": "y"}})
    assert len(raised.value.errors) == 2 and "(and 1 more)" in str(raised.value)


def test_merge_sections_overrides_keys_and_drops_null_sections() -> None:
    stored = {"safety": {"pii": "block", "injection": "flag"}, "cache": {"enabled": False}}
    changes = {
        "safety": {"pii": "allow"},
        "cache": None,
        "rate_limits": {"requests_per_minute": None},
    }
    merged = merge_sections(stored, changes)
    assert merged == {"safety": {"pii": "allow", "injection": "flag"},
                      "rate_limits": {"requests_per_minute": None}}  # fmt: skip
    assert stored == {"safety": {"pii": "block", "injection": "flag"}, "cache": {"enabled": False}}


# --- documents in Postgres


async def test_put_get_list_delete(store: CostStore, tenant: str) -> None:
    pool = store.pool
    assert await policies.get_policy(pool, tenant) is None
    document = {"rate_limits": {"requests_per_minute": 5}}
    stored = await policies.put_policy(pool, tenant, document)
    assert (stored.tenant, stored.document) == (tenant, document)
    assert await policies.get_policy(pool, tenant) == stored

    replaced = await policies.put_policy(pool, tenant, {"context": {"max_history_tokens": None}})
    assert replaced.document == {"context": {"max_history_tokens": None}}  # not merged
    assert replaced.updated_at >= stored.updated_at
    assert tenant in {p.tenant for p in await policies.list_policies(pool)}

    assert await policies.delete_policy(pool, tenant) is True
    assert await policies.delete_policy(pool, tenant) is False
    assert await policies.get_policy(pool, tenant) is None


async def test_an_invalid_put_stores_nothing(store: CostStore, tenant: str) -> None:
    await policies.put_policy(store.pool, tenant, {"safety": {"pii": "block"}})
    with pytest.raises(InvalidPolicy):
        await policies.put_policy(store.pool, tenant, {"safety": {"pii": "shout"}})
    found = await policies.get_policy(store.pool, tenant)
    assert found is not None and found.document == {"safety": {"pii": "block"}}


async def test_patch_merges_and_an_invalid_patch_changes_nothing(
    store: CostStore, tenant: str
) -> None:
    pool = store.pool
    with pytest.raises(InvalidPolicy):
        await policies.patch_policy(pool, tenant, {"safety": {"pii": "shout"}})
    assert await policies.get_policy(pool, tenant) is None  # no empty row left behind

    first = await policies.patch_policy(pool, tenant, {"safety": {"pii": "block"}})
    assert first.document == {"safety": {"pii": "block"}}
    second = await policies.patch_policy(
        pool, tenant, {"safety": {"injection": "flag"}, "cache": {"enabled": False}}
    )
    assert second.document == {"safety": {"pii": "block", "injection": "flag"},
                               "cache": {"enabled": False}}  # fmt: skip
    with pytest.raises(InvalidPolicy, match=r"^cache\.nope"):
        await policies.patch_policy(pool, tenant, {"cache": {"nope": 1}})
    third = await policies.patch_policy(pool, tenant, {"cache": None})
    assert third.document == {"safety": {"pii": "block", "injection": "flag"}}
    with pytest.raises(InvalidPolicy, match="JSON object"):
        await policies.patch_policy(pool, tenant, ["cache"])


async def test_concurrent_patches_of_one_tenant_all_apply(store: CostStore, tenant: str) -> None:
    # Each patch reads the stored document and writes it back: without the row lock one of
    # these read-modify-writes would overwrite another's section.
    sections = list(TenantPolicy.model_fields)
    await asyncio.gather(
        *(policies.patch_policy(store.pool, tenant, {section: {}}) for section in sections)
    )
    found = await policies.get_policy(store.pool, tenant)
    assert found is not None and sorted(found.document) == sorted(sections)


# --- route outcomes and the learning counts


def outcome(tenant: str, request_id: str, **fields: Any) -> RouteOutcome:
    values = {
        "kind": "route_outcome", "tenant_id": tenant, "request_id": request_id,
        "model": "claude-haiku-4-5", "success": True, "occurred_at": NOW, **fields,
    }  # fmt: skip
    return RouteOutcome.model_validate(values)


async def test_route_outcomes_are_stored_once_and_counted_per_day(
    store: CostStore, tenant: str
) -> None:
    batch = [
        outcome(tenant, "r1"),
        outcome(tenant, "r2", success=False),
        outcome(tenant, "r3", use_case="search", model="claude-sonnet-4-6"),
        outcome(tenant, "r4", occurred_at=NOW - timedelta(days=29)),  # oldest day counted
        outcome(tenant, "r5", occurred_at=NOW - timedelta(days=30)),  # too old
        outcome(tenant, "r6", model="ollama/llama3.2"),  # no tier: stored, not counted
    ]
    inserted = await policies.insert_route_outcomes(store.pool, batch)
    assert inserted == {o.event_id for o in batch}
    again = await policies.insert_route_outcomes(store.pool, [*batch, outcome(tenant, "r7")])
    assert again == {outcome(tenant, "r7").event_id}  # redelivery is harmless

    learning = await policies.load_learning(store.pool, now=NOW)
    mine = {key: counts for key, counts in learning.items() if key[0] == tenant}
    assert mine == {(tenant, "", "small"): (4, 3), (tenant, "search", "medium"): (1, 1)}
    tiers = await store.pool.fetch(
        "SELECT request_id, tier FROM route_outcomes WHERE tenant_id = $1 ORDER BY 1", tenant
    )
    assert [(r["request_id"], r["tier"]) for r in tiers][-2:] == [("r6", None), ("r7", "small")]


async def test_empty_batches_are_fine(store: CostStore) -> None:
    assert await policies.insert_route_outcomes(store.pool, []) == set()


# --- the snapshot a worker loads


async def test_load_snapshot_reads_budgets_policies_and_learning(
    store: CostStore, tenant: str
) -> None:
    pool = store.pool
    other = f"{tenant}-other"
    for scope in ("", "search"):
        await put_budget(pool, Budget(tenant=tenant, service=scope, use_case="",
                                      daily_limit_usd=Decimal(5), monthly_limit_usd=None,
                                      alert_thresholds=[Decimal("0.8")],
                                      hard_stop_ratio=Decimal("1.5")))  # fmt: skip
    default = {"safety": {"pii": "block"}, "rate_limits": {"requests_per_minute": 9}}
    await policies.put_policy(pool, DEFAULT_TENANT, default)
    try:
        await policies.put_policy(pool, tenant, {"rate_limits": {"requests_per_minute": 60}})
        await policies.insert_route_outcomes(
            pool, [outcome(tenant, "x", occurred_at=datetime.now(UTC))]
        )

        snapshot = await policies.load_snapshot(pool)
    finally:
        await policies.delete_policy(pool, DEFAULT_TENANT)

    assert [b.service for b in snapshot.budgets_for(tenant)] == ["", "search"]
    assert snapshot.budgets_for(other) == ()
    assert snapshot.documents[tenant] == {"rate_limits": {"requests_per_minute": 60}}
    mine = snapshot.policy_for(tenant)
    assert (mine.safety.pii, mine.rate_limits.requests_per_minute) == ("block", 60)
    theirs = snapshot.policy_for(other)
    assert (theirs.safety.pii, theirs.rate_limits.requests_per_minute) == ("block", 9)
    assert snapshot.learning[(tenant, "", "small")] == (1, 1)
    assert datetime.now(UTC) - snapshot.loaded_at < timedelta(minutes=5)


async def test_cost_events_keep_the_routers_reason(store: CostStore, tenant: str) -> None:
    reason = {"route_reason": "complexity:small (short)"}
    reasoned = event(tenant, request_id=f"{tenant}-1").model_copy(update=reason)
    plain = event(tenant, request_id=f"{tenant}-2")
    assert await store.insert([reasoned, plain]) == {reasoned.event_id, plain.event_id}
    rows = await store.pool.fetch(
        "SELECT request_id, route_reason FROM cost_events WHERE tenant_id = $1 ORDER BY 1", tenant
    )
    assert [tuple(r) for r in rows] == [(f"{tenant}-1", "complexity:small (short)"),
                                        (f"{tenant}-2", None)]  # fmt: skip
