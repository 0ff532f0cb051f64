"""Prometheus for stored cost events: one increment per label set and batch."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from frugalflow import metrics
from frugalflow.sink.store import InsertedTotals


def count(totals: Sequence[InsertedTotals]) -> None:
    """Prometheus for the rows Postgres newly inserted (``CostStore.insert_with_totals``),
    one increment per label set and batch. Postgres sums the rows: a loop over every
    event here took about a seventh of the sink's CPU."""
    if not totals:
        return
    reported: defaultdict[str, float] = defaultdict(float)
    mismatches: Counter[tuple[str, str]] = Counter()
    savings: defaultdict[str, float] = defaultdict(float)
    tokens: Counter[str] = Counter()
    for t in totals:
        cost = metrics.COST.labels(provider=t.provider, model=t.model, path=t.path)
        cost.inc(float(t.cost_usd))
        if t.provider_reported_cost_usd is not None:
            reported[t.provider] += float(t.provider_reported_cost_usd)
        if t.cost_mismatches:
            mismatches[(t.provider, t.model)] += t.cost_mismatches
        for lever, saved in t.savings.items():
            savings[lever] += float(saved)
        tokens.update(t.tokens)
    metrics.COST_EVENTS_STORED.inc(sum(t.events for t in totals))
    metrics.BASELINE.inc(float(sum(t.baseline_cost_usd for t in totals)))
    for provider, usd in reported.items():
        metrics.PROVIDER_REPORTED_COST.labels(provider=provider).inc(usd)
    for (provider, model), n in mismatches.items():
        metrics.PROVIDER_COST_MISMATCHES.labels(provider=provider, model=model).inc(n)
    for lever, usd in savings.items():
        metrics.SAVINGS.labels(lever=lever).inc(usd)
    for token_class, n in tokens.items():
        if n:
            metrics.TOKENS.labels(token_class=token_class).inc(n)
