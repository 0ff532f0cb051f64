"""Prometheus metrics, on the default registry so Faust's ``/metrics`` page serves them too.

Money counters are incremented by the sink from rows Postgres actually inserted, so a
redelivered cost event is never counted twice.
"""

from __future__ import annotations

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
COST_EVENTS_STORED = Counter(
    "frugalflow_cost_events_stored_total", "Cost events newly written to Postgres"
)
SINK_FAILURES = Counter(
    "frugalflow_sink_failures_total", "Failed Postgres writes (retried, nothing acked)"
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
