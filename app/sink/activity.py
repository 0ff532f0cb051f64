"""The activity sink: what the console shows beside the costs, from the topics that carry it.

Three ``TopicSink``s (app/sink/topic_sink.py: each its own consumer group, offsets
committed only after Postgres has the batch, as the cost sink), not Faust agents: the
rejections sink reads every answer, and Faust's per-record machinery would cost the
worker as much per answer as a whole stage of the pipeline:

* ``llm.alerts`` → ``alerts`` (budget and health alerts);
* ``llm.responses`` → ``rejections`` (only answers whose status is ``rejected``: the raw
  record is checked for the word before it is parsed, so ``ok`` answers cost a byte scan);
* ``llm.batches`` → ``batches`` (one row per provider batch slice, the latest state wins;
  compaction tombstones are skipped; only the slice's state and its requests' tenants are
  read, not the requests).

A record this sink cannot read is logged and skipped: the topics' owners dead-letter it.

``FRUGALFLOW_ACTIVITY_SINK=false`` registers none of them (the console then shows no
alerts, rejections or batches); the cost sink is not affected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel, ValidationError

from frugalflow.events import Alert, ResponseEvent, Status
from frugalflow.pipeline import Pipeline, log
from frugalflow.sink.activity_store import (
    BatchSlice,
    insert_alerts,
    insert_rejections,
    upsert_batches,
)
from frugalflow.sink.store import connect_store
from frugalflow.sink.topic_sink import Record, TopicSink

M = TypeVar("M", bound=BaseModel)
Write = Callable[[asyncpg.Pool, Sequence[Any]], Awaitable[None]]
_REJECTED = f'"{Status.REJECTED.value}"'.encode()


def is_rejection(value: bytes | None) -> bool:
    """Cheap pre-filter of an ``llm.responses`` record (a false positive is parsed and
    dropped; a rejected answer always contains the word)."""
    return value is not None and _REJECTED in value


def parse(model: type[M], value: bytes | None, topic: str) -> M | None:
    """A record as ``model``, or ``None`` (logged): these topics belong to other agents,
    which dead-letter what they cannot read; this sink only skips it."""
    if value is None:
        return None
    try:
        return model.model_validate_json(value)
    except (ValidationError, ValueError):
        log.warning("activity sink: skipped an unreadable %s record", topic)
        return None


def register(p: Pipeline) -> None:
    if not p.settings.activity_sink:  # FRUGALFLOW_ACTIVITY_SINK=false
        return

    def sink(topic: str, name: str, model: type[M], write: Write, keep: Callable[[M], bool],
             prefilter: Callable[[bytes | None], bool]) -> None:  # fmt: skip
        async def read(record: Record) -> M | None:
            if not prefilter(record.value):
                return None
            parsed = parse(model, record.value, record.topic)
            return parsed if parsed is not None and keep(parsed) else None

        @p.app.task
        async def run() -> None:
            store = await connect_store(p.settings.database_url, max_size=1)
            try:
                await TopicSink(p.settings, topic, name, read, partial(write, store.pool)).run()
            finally:
                await store.close()

    def present(value: bytes | None) -> bool:
        return value is not None

    sink("llm.alerts", "activity-alerts", Alert, insert_alerts, lambda _: True, present)
    sink("llm.responses", "activity-rejections", ResponseEvent, insert_rejections,
         lambda answer: answer.status == Status.REJECTED, is_rejection)  # fmt: skip
    sink("llm.batches", "activity-batches", BatchSlice, upsert_batches, lambda _: True,
         present)  # fmt: skip
