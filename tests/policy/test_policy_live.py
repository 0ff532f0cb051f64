"""What a worker applies: the snapshot's merging, and its refresh from a real Postgres."""

from __future__ import annotations

import logging
import socket
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest

from frugalflow.infra.process import free_port
from frugalflow.pipeline import Pipeline, build_faust_app
from frugalflow.policy import live
from frugalflow.policy import store as policies
from frugalflow.policy.live import FirstLoad, PolicyRefresher, register
from frugalflow.policy.models import DEFAULT_CACHE_TTL_S, TenantPolicy
from frugalflow.policy.snapshot import DEFAULT_TENANT, NEVER, PolicySnapshot
from frugalflow.reports.budgets import Budget, put_budget
from frugalflow.settings import Settings
from frugalflow.sink.store import CostStore
from tests.api.conftest import schema_dsn, store

__all__ = ["schema_dsn", "store"]  # the API tests' fresh-schema fixtures

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def snapshot(documents: dict[str, dict[str, Any]], **fields: Any) -> PolicySnapshot:
    values: dict[str, Any] = {"budgets": {}, "learning": {}, "loaded_at": T0, **fields}
    return PolicySnapshot(documents=documents, **values)


def daily_budget(tenant: str, limit: Decimal) -> Budget:
    scope = {"service": "", "use_case": "", "alert_thresholds": [], "hard_stop_ratio": 1}
    return Budget(tenant=tenant, daily_limit_usd=limit, monthly_limit_usd=None, **scope)


# --- the snapshot


def test_the_empty_snapshot_gives_defaults_and_no_budgets() -> None:
    empty = PolicySnapshot.empty()
    assert empty.policy_for("acme") == TenantPolicy()
    assert empty.budgets_for("acme") == () and empty.learning == {}
    assert empty.loaded_at == NEVER


def test_tenant_document_over_default_document_over_defaults() -> None:
    s = snapshot({
        DEFAULT_TENANT: {"safety": {"pii": "block", "injection": "flag"},
                         "rate_limits": {"requests_per_minute": 10}},
        "acme": {"safety": {"pii": "allow"}, "rate_limits": {"requests_per_minute": None}},
    })  # fmt: skip
    acme = s.policy_for("acme")
    assert (acme.safety.pii, acme.safety.injection) == ("allow", "flag")  # keys, not sections
    assert acme.rate_limits.requests_per_minute is None  # null overrides the default's limit
    assert acme.cache.ttl_s_by_use_case == DEFAULT_CACHE_TTL_S
    other = s.policy_for("globex")
    assert (other.safety.pii, other.rate_limits.requests_per_minute) == ("block", 10)
    assert s.policy_for(DEFAULT_TENANT) == other


def test_policies_are_resolved_once_per_snapshot() -> None:
    s = snapshot({"acme": {"cache": {"enabled": False}}})
    assert s.policy_for("acme") is s.policy_for("acme")
    assert s.policy_for("globex") is s.policy_for("initech")  # no document: the shared default


def test_a_bad_stored_document_breaks_only_its_tenant(caplog: pytest.LogCaptureFixture) -> None:
    s = snapshot({
        DEFAULT_TENANT: {"safety": {"pii": "block"}},
        "broken": {"safety": {"pii": "shout"}, "cache": {"enabled": False}},
        "fine": {"cache": {"enabled": False}},
    })  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="frugalflow"):
        broken = s.policy_for("broken")
        assert s.policy_for("fine").cache.enabled is False
    assert broken.safety.pii == "block" and broken.cache.enabled is True  # defaults + '*'
    assert "'broken'" in caplog.text and "safety.pii" in caplog.text
    assert "'fine'" not in caplog.text


def test_a_bad_default_document_falls_back_to_the_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = snapshot({DEFAULT_TENANT: {"surprise": {}}, "acme": {"safety": {"pii": "allow"}}})
    with caplog.at_level(logging.WARNING, logger="frugalflow"):
        assert s.policy_for("globex") == TenantPolicy()
        assert s.policy_for("acme").safety.pii == "allow"
    assert "'*'" in caplog.text and "surprise" in caplog.text


def test_budgets_are_per_tenant() -> None:
    budget = daily_budget("acme", Decimal(1))
    s = snapshot({}, budgets={"acme": (budget,)})
    assert s.budgets_for("acme") == (budget,) and s.budgets_for("globex") == ()


# --- the refresh


def pipeline(dsn: str | None) -> Pipeline:
    settings = Settings(database_url=dsn)  # type: ignore[arg-type]
    return cast(Pipeline, SimpleNamespace(settings=settings, policy=PolicySnapshot.empty()))


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


async def test_refresh_loads_what_the_api_wrote(
    schema_dsn: str, store: CostStore, tenant: str
) -> None:
    p = pipeline(schema_dsn)
    refresher = PolicyRefresher(p)
    try:
        await policies.put_policy(store.pool, tenant, {"rate_limits": {"requests_per_minute": 7}})
        assert await refresher.refresh() is True
        assert p.policy.policy_for(tenant).rate_limits.requests_per_minute == 7
        assert p.policy.budgets_for(tenant) == ()

        await policies.patch_policy(store.pool, tenant, {"rate_limits": {"requests_per_minute": 3}})
        await put_budget(store.pool, daily_budget(tenant, Decimal(2)))
        before = p.policy
        assert await refresher.refresh() is True
        assert p.policy is not before and p.policy.loaded_at >= before.loaded_at
        assert p.policy.policy_for(tenant).rate_limits.requests_per_minute == 3
        assert [b.daily_limit_usd for b in p.policy.budgets_for(tenant)] == [Decimal(2)]
    finally:
        await refresher.close()
    assert refresher.store is None


async def test_unreachable_postgres_keeps_the_last_snapshot_and_warns_once(
    schema_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    p = pipeline(f"postgresql://nobody@127.0.0.1:{free_port()}/nothing")
    known = snapshot({"acme": {"cache": {"enabled": False}}})
    p.policy = known
    refresher = PolicyRefresher(p)
    with caplog.at_level(logging.WARNING, logger="frugalflow"):
        assert await refresher.refresh() is False
        assert await refresher.refresh() is False
    assert p.policy is known and refresher.failures == 2
    warnings = [r.getMessage() for r in caplog.records if "policies:" in r.getMessage()]
    assert len(warnings) == 1, warnings  # rate-limited
    assert "keeping the policies and budgets loaded at 2025-01-01" in warnings[0]
    assert "nobody" not in caplog.text  # the DSN stays out of the log

    caplog.clear()
    p.settings = Settings(database_url=schema_dsn)  # type: ignore[arg-type]  # Postgres is back
    with caplog.at_level(logging.INFO, logger="frugalflow"):
        assert await refresher.refresh() is True
    await refresher.close()
    assert p.policy is not known and refresher.failures == 0
    assert "answers again after 2 failed refresh(es)" in caplog.text


async def test_the_first_snapshot_is_loaded_when_the_app_starts(
    schema_dsn: str, store: CostStore, tenant: str
) -> None:
    await policies.put_policy(store.pool, tenant, {"safety": {"pii": "block"}})
    settings = Settings(database_url=schema_dsn)  # type: ignore[arg-type]
    p = cast(Pipeline, SimpleNamespace(settings=settings, app=build_faust_app(settings),
                                       policy=PolicySnapshot.empty()))  # fmt: skip
    refresher = register(p)
    assert refresher is not None
    # The app starts its dependencies in order before its own (consumer, agents, timers).
    first = [s for s in p.app._children if isinstance(s, FirstLoad)]  # type: ignore[attr-defined]
    assert len(first) == 1 and p.app._children[0] is first[0]  # type: ignore[attr-defined]
    await first[0].start()
    try:
        assert p.policy.policy_for(tenant).safety.pii == "block"
    finally:
        await first[0].stop()
    assert refresher.store is None  # closed with the app


async def test_first_load_does_not_wait_forever_for_postgres(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "STARTUP_TIMEOUT_S", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        p = pipeline(f"postgresql://nobody@127.0.0.1:{port}/nothing")
        service = FirstLoad(PolicyRefresher(p))
        await service.start()
        await service.stop()
    assert p.policy.loaded_at == NEVER  # started on the defaults; the timer catches up


def test_without_a_database_nothing_is_registered() -> None:
    settings = Settings(database_url=None)  # type: ignore[arg-type]
    app = build_faust_app(settings)
    p = cast(Pipeline, SimpleNamespace(settings=settings, app=app, policy=PolicySnapshot.empty()))
    assert register(p) is None
    assert not any(isinstance(s, FirstLoad) for s in app._children)  # type: ignore[attr-defined]
