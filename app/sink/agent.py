"""The sink agent: cost events → Postgres in batches, then Prometheus.

A batch is acked only after Postgres has it. When Postgres is unreachable the agent
backs off (capped exponential) and retries the same batch: nothing is acked, nothing is
lost, and once Postgres is back the backlog drains in large batches. Prometheus counts
only rows Postgres newly inserted, so redelivery never counts money twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app import metrics
from app.events import CostEvent
from app.pipeline import Pipeline, log
from app.sink.store import CostStore

MAX_BACKOFF_S = 30.0


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics.cost_events, name="cost-sink")
    async def sink(stream: Any) -> Any:
        store = await _connect(p)
        try:
            async for events in stream.noack_take(
                p.settings.sink_batch_size, within=p.settings.sink_batch_seconds
            ):
                parsed = [await p.parse_internal(CostEvent, e.message) for e in events]
                batch = list({c.event_id: c for c in parsed if c is not None}.values())
                inserted = await _insert_until_stored(store, batch)
                count(batch, inserted)
                for event in events:
                    await stream.ack(event)
        finally:
            await store.close()


async def _connect(p: Pipeline, *, max_size: int = 4) -> CostStore:
    """A started store (pool of up to ``max_size`` connections, migrations applied).

    Retries with capped exponential backoff until Postgres answers.
    """
    if p.settings.database_url is None:
        raise RuntimeError("FRUGALFLOW_DATABASE_URL (or DATABASE_URL) is required for the sink")
    store = CostStore(p.settings.database_url.get_secret_value(), max_size=max_size)
    delay = 0.5
    while True:
        try:
            await store.start()
            return store
        except Exception as exc:  # refused, DNS, auth, timeout: all mean "not yet"
            await store.close()
            metrics.SINK_FAILURES.inc()
            log.warning("Postgres unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_S)


async def _insert_until_stored(store: CostStore, batch: list[CostEvent]) -> set[str]:
    delay = 0.5
    while True:
        try:
            return await store.insert(batch)
        except Exception as exc:  # connection lost, server restarting, pool closed...
            metrics.SINK_FAILURES.inc()
            log.warning("Postgres write failed (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_S)


def count(batch: list[CostEvent], inserted: set[str]) -> None:
    for event in batch:
        if event.event_id not in inserted:
            continue
        metrics.COST_EVENTS_STORED.inc()
        metrics.COST.labels(
            provider=event.provider or "", model=event.model or "", path=event.path.value
        ).inc(float(event.cost_usd))
        metrics.BASELINE.inc(float(event.baseline_cost_usd))
        for lever in type(event.savings_usd).model_fields:
            amount = getattr(event.savings_usd, lever)
            if amount > 0:  # a counter only grows; cache-write premiums are in the rows
                metrics.SAVINGS.labels(lever=lever).inc(float(amount))
        for token_class in (
            "input_tokens",
            "output_tokens",
            "cache_write_tokens",
            "cache_read_tokens",
        ):
            metrics.TOKENS.labels(token_class=token_class).inc(getattr(event, token_class))
