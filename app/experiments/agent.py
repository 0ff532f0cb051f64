"""The feedback agent: ``llm.feedback`` → ``outcomes`` and ``route_outcomes`` in Postgres.

The topic carries two shapes (``frugalflow.experiments.models``): experiment outcomes
(``FeedbackEvent``) and, with ``"kind": "route_outcome"``, whether the model that served
a request did the job (``RouteOutcome``)::

    {"kind": "route_outcome", "event_id"?, "tenant_id", "request_id", "use_case"?,
     "model", "success": true|false, "occurred_at"?}

Batches come from ``noack_take`` and are acked only after Postgres has them; while
Postgres is down the agent retries the same batch with capped exponential backoff, so
nothing is lost, and ``ON CONFLICT (event_id) DO NOTHING`` makes redelivery harmless.
The connection pool (and the migrations) are the sink's ``CostStore``.

A record is dead-lettered with reason

* ``invalid_feedback`` when it is not a valid ``FeedbackEvent``, its key is not its
  ``tenant_id``, or it names an experiment that does not exist, belongs to another
  tenant, or has no such variant;
* ``invalid_route_outcome`` when it says ``"kind": "route_outcome"`` but is not a valid
  ``RouteOutcome``, or its key is not its ``tenant_id``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import ValidationError

from frugalflow.events import DeadLetter
from frugalflow.experiments import store
from frugalflow.experiments.models import FeedbackEvent, RouteOutcome
from frugalflow.intake.validate import Reason, dead_letter
from frugalflow.pipeline import Pipeline
from frugalflow.policy.store import insert_route_outcomes
from frugalflow.reports.rollups import Conn
from frugalflow.sink.retry import until_done
from frugalflow.sink.store import connect_store

INVALID_FEEDBACK = "invalid_feedback"
INVALID_ROUTE_OUTCOME = "invalid_route_outcome"
ROUTE_OUTCOME = "route_outcome"


@dataclass(frozen=True, slots=True)
class _Record:
    key: bytes | None
    value: bytes | None
    topic: str
    partition: int
    offset: int

    def dead(self, reason: str, detail: str) -> DeadLetter:
        letter = dead_letter(
            Reason.INVALID_FIELD, detail, self.key, self.value, self.topic, self.partition,
            self.offset,
        )  # fmt: skip
        return letter.model_copy(update={"reason": reason})


@dataclass(frozen=True, slots=True)
class Rejected:
    record: _Record
    reason: str  # the dead letter's stable code
    detail: str


@dataclass
class Parsed:
    """One batch sorted: the last event of each event id, and what cannot be accepted."""

    feedback: list[tuple[_Record, FeedbackEvent]] = field(default_factory=list)
    routes: list[tuple[_Record, RouteOutcome]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def register(p: Pipeline) -> None:
    size, within = p.settings.sink_batch_size, p.settings.sink_batch_seconds

    @p.app.agent(p.topics.feedback, name="experiment-feedback")
    async def feedback(stream: Any) -> Any:
        async with _pool(p) as pool:
            async for events in stream.noack_take(size, within=within):
                parsed = parse([_record(e.message) for e in events])
                rejected = parsed.rejected + await _until_stored(pool, parsed)
                for r in rejected:
                    await p.publish_dead_letter(r.record.dead(r.reason, r.detail), r.record.key)
                for event in events:  # only now: Postgres has the batch
                    await stream.ack(event)


@asynccontextmanager
async def _pool(p: Pipeline) -> AsyncIterator[Conn]:
    """The sink's store (pool and migrations), connected with its backoff."""
    cost_store = await connect_store(p.settings.database_url)
    try:
        yield cost_store.pool
    finally:
        await cost_store.close()


def _record(message: Any) -> _Record:
    return _Record(message.key, message.value, message.topic, message.partition, message.offset)


def parse(records: list[_Record]) -> Parsed:
    """Sort a batch by shape; a later event with the same event id replaces an earlier one."""
    feedback: dict[str, tuple[_Record, FeedbackEvent]] = {}
    routes: dict[str, tuple[_Record, RouteOutcome]] = {}
    rejected: list[Rejected] = []
    for record in records:
        document = _route_outcome_document(record.value)
        if document is not None:
            try:
                route = RouteOutcome.model_validate(document)
            except ValidationError as exc:
                detail = f"not a RouteOutcome: {exc}"
                rejected.append(Rejected(record, INVALID_ROUTE_OUTCOME, detail))
                continue
            if record.key != route.tenant_id.encode():
                detail = f"record key {record.key!r} != tenant_id"
                rejected.append(Rejected(record, INVALID_ROUTE_OUTCOME, detail))
                continue
            routes[route.event_id] = (record, route)
            continue
        try:
            event = FeedbackEvent.model_validate_json(record.value or b"")
        except (ValidationError, ValueError) as exc:
            rejected.append(Rejected(record, INVALID_FEEDBACK, f"not a FeedbackEvent: {exc}"))
            continue
        if record.key != event.tenant_id.encode():
            detail = f"record key {record.key!r} != tenant_id"
            rejected.append(Rejected(record, INVALID_FEEDBACK, detail))
            continue
        feedback[event.event_id] = (record, event)
    return Parsed(list(feedback.values()), list(routes.values()), rejected)


def _route_outcome_document(value: bytes | None) -> dict[str, Any] | None:
    """The JSON object of a record that says ``"kind": "route_outcome"``, else None."""
    try:
        document = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # not JSON: reported as an invalid FeedbackEvent, as before
    if isinstance(document, dict) and document.get("kind") == ROUTE_OUTCOME:
        return document
    return None


async def _until_stored(conn: Conn, parsed: Parsed) -> list[Rejected]:
    return await until_done("feedback write", partial(store_batch, conn, parsed))


async def store_batch(conn: Conn, parsed: Parsed) -> list[Rejected]:
    """Insert the route outcomes and the feedback events that match their experiment;
    returns the other feedback events with reasons."""
    await insert_route_outcomes(conn, [route for _, route in parsed.routes])
    batch = parsed.feedback
    known = await store.variants_of(conn, sorted({e.experiment_id for _, e in batch}))
    accepted: list[FeedbackEvent] = []
    rejected: list[Rejected] = []
    for record, event in batch:
        tenant, variants = known.get(event.experiment_id, (None, set()))
        if tenant is None:
            detail = f"unknown experiment {event.experiment_id!r}"
        elif tenant != event.tenant_id:
            detail = f"experiment {event.experiment_id!r} is not tenant's"
        elif event.variant not in variants:
            detail = f"experiment has no variant {event.variant!r}"
        else:
            accepted.append(event)
            continue
        rejected.append(Rejected(record, INVALID_FEEDBACK, detail))
    await store.insert_outcomes(conn, accepted)
    return rejected
