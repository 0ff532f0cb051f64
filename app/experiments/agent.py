"""The feedback agent: ``llm.feedback`` outcome events → ``outcomes`` in Postgres.

Batches come from ``noack_take`` and are acked only after Postgres has them; while
Postgres is down the agent retries the same batch with capped exponential backoff, so
nothing is lost, and ``ON CONFLICT (event_id) DO NOTHING`` makes redelivery harmless.
The connection pool (and the migrations) are the sink's ``CostStore``.

A record is dead-lettered with reason ``invalid_feedback`` when it is not a valid
``FeedbackEvent``, its key is not its ``tenant_id``, or it names an experiment that does
not exist, belongs to another tenant, or has no such variant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import ValidationError

from app.events import DeadLetter
from app.experiments import store
from app.experiments.models import FeedbackEvent
from app.intake.validate import Reason, dead_letter
from app.pipeline import Pipeline
from app.reports.rollups import Conn
from app.sink.agent import connect_store
from app.sink.retry import until_done

INVALID_FEEDBACK = "invalid_feedback"


@dataclass(frozen=True, slots=True)
class _Record:
    key: bytes | None
    value: bytes | None
    topic: str
    partition: int
    offset: int

    def dead(self, detail: str) -> DeadLetter:
        letter = dead_letter(
            Reason.INVALID_FIELD, detail, self.key, self.value, self.topic, self.partition,
            self.offset,
        )  # fmt: skip
        return letter.model_copy(update={"reason": INVALID_FEEDBACK})


def register(p: Pipeline) -> None:
    size, within = p.settings.sink_batch_size, p.settings.sink_batch_seconds

    @p.app.agent(p.topics.feedback, name="experiment-feedback")
    async def feedback(stream: Any) -> Any:
        async with _pool(p) as pool:
            async for events in stream.noack_take(size, within=within):
                parsed, rejected = parse([_record(e.message) for e in events])
                rejected += await _until_stored(pool, parsed)
                for record, detail in rejected:
                    await p.publish_dead_letter(record.dead(detail), record.key)
                for event in events:  # only now: Postgres has the batch
                    await stream.ack(event)


@asynccontextmanager
async def _pool(p: Pipeline) -> AsyncIterator[Conn]:
    """The sink's store (pool and migrations), connected with its backoff."""
    cost_store = await connect_store(p)
    try:
        yield cost_store.pool
    finally:
        await cost_store.close()


def _record(message: Any) -> _Record:
    return _Record(message.key, message.value, message.topic, message.partition, message.offset)


def parse(
    records: list[_Record],
) -> tuple[list[tuple[_Record, FeedbackEvent]], list[tuple[_Record, str]]]:
    """Valid events (the last of each event id in the batch) and rejections with reasons."""
    valid: dict[str, tuple[_Record, FeedbackEvent]] = {}
    rejected: list[tuple[_Record, str]] = []
    for record in records:
        try:
            event = FeedbackEvent.model_validate_json(record.value or b"")
        except (ValidationError, ValueError) as exc:
            rejected.append((record, f"not a FeedbackEvent: {exc}"))
            continue
        if record.key != event.tenant_id.encode():
            rejected.append((record, f"record key {record.key!r} != tenant_id"))
            continue
        valid[event.event_id] = (record, event)
    return list(valid.values()), rejected


async def _until_stored(
    conn: Conn, batch: list[tuple[_Record, FeedbackEvent]]
) -> list[tuple[_Record, str]]:
    return await until_done("feedback write", partial(store_batch, conn, batch))


async def store_batch(
    conn: Conn, batch: list[tuple[_Record, FeedbackEvent]]
) -> list[tuple[_Record, str]]:
    """Insert the events that match their experiment; returns the others with reasons."""
    known = await store.variants_of(conn, sorted({e.experiment_id for _, e in batch}))
    accepted: list[FeedbackEvent] = []
    rejected: list[tuple[_Record, str]] = []
    for record, event in batch:
        tenant, variants = known.get(event.experiment_id, (None, set()))
        if tenant is None:
            rejected.append((record, f"unknown experiment {event.experiment_id!r}"))
        elif tenant != event.tenant_id:
            rejected.append((record, f"experiment {event.experiment_id!r} is not tenant's"))
        elif event.variant not in variants:
            rejected.append((record, f"experiment has no variant {event.variant!r}"))
        else:
            accepted.append(event)
    await store.insert_outcomes(conn, accepted)
    return rejected
