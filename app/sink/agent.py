"""The sink agent: cost events → Postgres in batches, then Prometheus.

A batch is acked only after Postgres has it. When Postgres is unreachable the agent
backs off (capped exponential) and retries the same batch: nothing is acked, nothing is
lost, and once Postgres is back the backlog drains in large batches. Prometheus counts
only rows Postgres newly inserted, so redelivery never counts money twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from app import metrics
from app.events import CostEvent
from app.pipeline import Pipeline
from app.sink.retry import until_done
from app.sink.store import CostStore


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics.cost_events, name="cost-sink")
    async def sink(stream: Any) -> Any:
        store = await connect_store(p)
        try:
            async for events in stream.noack_take(
                p.settings.sink_batch_size, within=p.settings.sink_batch_seconds
            ):
                parsed = [await p.parse_internal(CostEvent, e.message) for e in events]
                batch = list({c.event_id: c for c in parsed if c is not None}.values())
                inserted = await until_done("Postgres write", partial(store.insert, batch))
                count(batch, inserted)
                for event in events:
                    await stream.ack(event)
        finally:
            await store.close()


async def connect_store(p: Pipeline, *, max_size: int = 4) -> CostStore:
    """A started store (pool of up to ``max_size`` connections, migrations applied),
    waiting for Postgres as long as it takes. Shared by every agent that uses Postgres."""
    if p.settings.database_url is None:
        raise RuntimeError("FRUGALFLOW_DATABASE_URL (or DATABASE_URL) is required for the sink")
    store = CostStore(p.settings.database_url.get_secret_value(), max_size=max_size)

    async def start() -> CostStore:
        try:
            await store.start()
        except BaseException:
            await store.close()  # a half-open pool must not leak into the next attempt
            raise
        return store

    return await until_done("Postgres connect", start)


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
