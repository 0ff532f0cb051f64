"""Bounded tenant labels and the metrics the dashboard relies on."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from frugalflow import metrics
from frugalflow.metrics import OTHER_TENANT, TenantLabels


def test_tenant_labels_are_bounded() -> None:
    labels = TenantLabels(2)
    assert [labels(t) for t in ("a", "b", "c", "a", "d", "b")] == [
        "a", "b", OTHER_TENANT, "a", OTHER_TENANT, "b",
    ]  # fmt: skip
    assert TenantLabels(0)("a") == OTHER_TENANT


def test_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(metrics.MAX_TENANTS_ENV, "1")
    assert TenantLabels.from_env().max_tenants == 1
    monkeypatch.delenv(metrics.MAX_TENANTS_ENV)
    assert TenantLabels.from_env().max_tenants == 100
    monkeypatch.setenv(metrics.MAX_TENANTS_ENV, "many")
    with pytest.raises(ValueError, match=metrics.MAX_TENANTS_ENV):
        TenantLabels.from_env()


def test_module_helper_reads_the_limit_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_TENANT_LABELS", None)
    monkeypatch.setenv(metrics.MAX_TENANTS_ENV, "1")
    assert metrics.tenant_label("first") == "first"
    monkeypatch.setenv(metrics.MAX_TENANTS_ENV, "50")  # not read again
    assert metrics.tenant_label("second") == OTHER_TENANT
    assert metrics.tenant_label("first") == "first"


def test_new_metrics_are_exposed() -> None:
    metrics.CACHE_REQUESTS.labels(cache="response", result="hit").inc()
    metrics.ERRORS.labels(code="provider_timeout").inc()
    metrics.BUDGET_USED_RATIO.labels(tenant=metrics.tenant_label("acme"), period="day").set(0.5)
    value = REGISTRY.get_sample_value
    assert value("frugalflow_cache_requests_total", {"cache": "response", "result": "hit"})
    assert value("frugalflow_errors_total", {"code": "provider_timeout"})
    assert value("frugalflow_budget_used_ratio", {"tenant": "acme", "period": "day"}) == 0.5
