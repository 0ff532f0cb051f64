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
from app.sink.store import connect_store


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics.cost_events, name="cost-sink")
    async def sink(stream: Any) -> Any:
        store = await connect_store(p.settings.database_url)
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


def count(batch: list[CostEvent], inserted: set[str]) -> None:
    for event in batch:
        if event.event_id not in inserted:
            continue
        metrics.COST_EVENTS_STORED.inc()
        metrics.COST.labels(
            provider=event.provider or "", model=event.model or "", path=event.path.value
        ).inc(float(event.cost_usd))
        metrics.BASELINE.inc(float(event.baseline_cost_usd))
        if event.provider_reported_cost_usd is not None:
            provider = event.provider or ""
            metrics.PROVIDER_REPORTED_COST.labels(provider=provider).inc(
                float(event.provider_reported_cost_usd)
            )
            if event.cost_mismatch:
                metrics.PROVIDER_COST_MISMATCHES.labels(
                    provider=provider, model=event.model or ""
                ).inc()
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
