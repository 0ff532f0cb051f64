"""Prometheus for stored cost events: one increment per label set and batch."""

from __future__ import annotations

from collections import Counter, defaultdict

from frugalflow import metrics
from frugalflow.events import CostEvent, Savings

LEVERS = tuple(Savings.model_fields)
TOKEN_CLASSES = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")


def count(batch: list[CostEvent], inserted: set[str]) -> None:
    """Prometheus for the rows Postgres newly inserted, one increment per label set and
    batch: a labelled increment per event and metric took a fifth of the sink's CPU."""
    stored = [event for event in batch if event.event_id in inserted]
    if not stored:
        return
    cost: defaultdict[tuple[str, str, str], float] = defaultdict(float)
    reported: defaultdict[str, float] = defaultdict(float)
    mismatches: Counter[tuple[str, str]] = Counter()
    savings: defaultdict[str, float] = defaultdict(float)
    tokens: Counter[str] = Counter()
    baseline = 0.0
    for event in stored:
        provider, model = event.provider or "", event.model or ""
        cost[(provider, model, event.path.value)] += float(event.cost_usd)
        baseline += float(event.baseline_cost_usd)
        if event.provider_reported_cost_usd is not None:
            reported[provider] += float(event.provider_reported_cost_usd)
            if event.cost_mismatch:
                mismatches[(provider, model)] += 1
        for lever in LEVERS:
            amount = getattr(event.savings_usd, lever)
            if amount > 0:  # a counter only grows; cache-write premiums are in the rows
                savings[lever] += float(amount)
        for token_class in TOKEN_CLASSES:
            tokens[token_class] += getattr(event, token_class)
    metrics.COST_EVENTS_STORED.inc(len(stored))
    metrics.BASELINE.inc(baseline)
    for (provider, model, path), usd in cost.items():
        metrics.COST.labels(provider=provider, model=model, path=path).inc(usd)
    for provider, usd in reported.items():
        metrics.PROVIDER_REPORTED_COST.labels(provider=provider).inc(usd)
    for (provider, model), n in mismatches.items():
        metrics.PROVIDER_COST_MISMATCHES.labels(provider=provider, model=model).inc(n)
    for lever, usd in savings.items():
        metrics.SAVINGS.labels(lever=lever).inc(usd)
    for token_class, n in tokens.items():
        if n:
            metrics.TOKENS.labels(token_class=token_class).inc(n)
