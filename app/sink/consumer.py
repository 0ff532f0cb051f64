"""The cost sink: ``llm.cost-events`` → Postgres (``cost_events`` and the daily roll-ups).

A ``TopicSink`` (app/sink/topic_sink.py: its own consumer group ``<app id>-cost-sink``,
offsets committed in order after Postgres has the rows). A corrupt record is
dead-lettered (``corrupt_internal_record``) and passed. Each write inserts the batch in
one idempotent statement (``frugalflow.sink.store``) and counts in Prometheus only the rows
Postgres newly inserted (their totals, summed by that statement), so a redelivered event
is neither stored nor counted twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from frugalflow.events import CostEvent, DeadLetter
from frugalflow.pipeline import parse_record
from frugalflow.settings import Settings
from frugalflow.sink.metrics import count
from frugalflow.sink.store import CostStore
from frugalflow.sink.topic_sink import Record, TopicSink

NAME = "cost-sink"


def cost_sink(
    settings: Settings,
    store: CostStore,
    publish_dead_letter: Callable[[DeadLetter, bytes | None], Awaitable[None]],
) -> TopicSink[CostEvent]:
    async def read(record: Record) -> CostEvent | None:
        parsed = parse_record(CostEvent, record)
        if isinstance(parsed, DeadLetter):
            await publish_dead_letter(parsed, record.key)
            return None
        return parsed

    async def write(events: list[CostEvent]) -> None:
        unique = list({event.event_id: event for event in events}.values())  # redeliveries
        count(await store.insert_with_totals(unique))

    return TopicSink(settings, "llm.cost-events", NAME, read, write)
