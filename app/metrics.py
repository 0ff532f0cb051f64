"""Prometheus metrics, on the default registry so Faust's ``/metrics`` page serves them too.

Money counters are incremented by the sink from rows Postgres actually inserted, so a
redelivered cost event is never counted twice.
"""

from __future__ import annotations

import os
import threading

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "frugalflow_requests_total", "Requests answered, by path and status", ["path", "status"]
)
DEAD_LETTERS = Counter(
    "frugalflow_dead_letters_total", "Records sent to the dead-letter topic", ["reason"]
)
COST = Counter(
    "frugalflow_cost_usd_total", "USD billed by providers", ["provider", "model", "path"]
)
BASELINE = Counter(
    "frugalflow_baseline_usd_total", "USD the same answers would cost at list price, uncached"
)
SAVINGS = Counter("frugalflow_savings_usd_total", "USD saved, by lever", ["lever"])
TOKENS = Counter("frugalflow_tokens_total", "Tokens billed, by class", ["token_class"])
PROVIDER_REPORTED_COST = Counter(
    "frugalflow_provider_reported_cost_usd_total",
    "USD the providers that report a cost (OpenRouter) say they billed",
    ["provider"],
)
PROVIDER_COST_MISMATCHES = Counter(
    "frugalflow_provider_cost_mismatch_total",
    "Answers whose provider-reported cost differs from FrugalFlow's beyond the tolerance",
    ["provider", "model"],
)
COST_EVENTS_STORED = Counter(
    "frugalflow_cost_events_stored_total", "Cost events newly written to Postgres"
)
SINK_FAILURES = Counter(
    "frugalflow_sink_failures_total", "Failed Postgres writes (retried, nothing acked)"
)
EXPERIMENTS_RUNNING = Gauge(
    "frugalflow_experiments_running", "Running experiments this worker applies to live traffic"
)
PENDING_BATCHES = Gauge(
    "frugalflow_pending_batches", "Provider batches submitted and not yet answered"
)
BATCH_SIZE = Histogram(
    "frugalflow_batch_size_requests",
    "Requests per submitted provider batch",
    buckets=(1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000),
)
LATENCY = Histogram(
    "frugalflow_answer_latency_seconds",
    "Request creation to answer, by path",
    ["path"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400),
)
CACHE_REQUESTS = Counter(
    "frugalflow_cache_requests_total",
    "Cache lookups, by cache (response, pattern, prompt...) and result (hit, miss)",
    ["cache", "result"],
)
ERRORS = Counter(
    "frugalflow_errors_total", "Answers that ended in an error, by stable error code", ["code"]
)
BUDGET_USED_RATIO = Gauge(
    "frugalflow_budget_used_ratio",
    "Spent / limit of the tenant's budget for the period (label tenant via tenant_label())",
    ["tenant", "period"],
)

MAX_TENANTS_ENV = "FRUGALFLOW_METRICS_MAX_TENANTS"
OTHER_TENANT = "other"


class TenantLabels:
    """Bounds the ``tenant`` label's cardinality: the first ``max_tenants`` distinct tenants
    keep their own label, every later one is reported as ``"other"``."""

    def __init__(self, max_tenants: int) -> None:
        self.max_tenants = max(0, max_tenants)
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> TenantLabels:
        raw = os.environ.get(MAX_TENANTS_ENV, "").strip()
        try:
            return cls(int(raw) if raw else 100)
        except ValueError:
            raise ValueError(f"{MAX_TENANTS_ENV} must be an integer, got {raw!r}") from None

    def __call__(self, tenant: str) -> str:
        with self._lock:
            if tenant in self._seen:
                return tenant
            if len(self._seen) < self.max_tenants:
                self._seen.add(tenant)
                return tenant
        return OTHER_TENANT


_TENANT_LABELS: TenantLabels | None = None
_TENANT_LABELS_LOCK = threading.Lock()


def tenant_label(tenant: str) -> str:
    """The ``tenant`` label value for ``tenant``: itself while fewer than
    ``FRUGALFLOW_METRICS_MAX_TENANTS`` (default 100, read once) tenants were seen, then
    ``"other"`` for every new one."""
    global _TENANT_LABELS
    if _TENANT_LABELS is None:
        with _TENANT_LABELS_LOCK:
            if _TENANT_LABELS is None:
                _TENANT_LABELS = TenantLabels.from_env()
    return _TENANT_LABELS(tenant)
