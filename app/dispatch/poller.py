"""The batch poller: a timer that checks every submitted batch this worker owns.

It only *reads* the ledger's tables (timers cannot write them) and reports progress by
sending a ``done`` record to ``llm.batches``, which the ledger applies. Order per batch:
publish every answer, then the ``done`` record. A crash in between re-answers the batch
after restart: the same responses and cost events with the same ids, counted once.
Because the table is restored from its changelog at start, a restarted worker resumes
polling every batch it owned; none is lost and none is submitted again.
"""

from __future__ import annotations

import asyncio

from app.dispatch.answers import from_result
from app.dispatch.batch_ledger import reroute_or_fail
from app.events import BatchRecord, Path, utcnow
from app.metrics import PENDING_BATCHES
from app.pipeline import Pipeline, log
from app.providers.base import BatchState, ChatResult, ProviderError
from app.providers.ids import safe_custom_id


def register(p: Pipeline) -> None:
    @p.app.timer(p.settings.batch_poll_interval_s, name="batch-poller")
    async def poll_batches() -> None:
        await poll_once(p)


def _owned_partitions(p: Pipeline) -> set[int]:
    name = p.topics.batches.get_topic_name()
    return {tp.partition for tp in p.app.assignor.assigned_actives() if tp.topic == name}


async def poll_once(p: Pipeline) -> None:
    pending = p.tables["batches_pending"]
    owned = _owned_partitions(p)
    records = [BatchRecord.model_validate(v) for v in list(pending.values()) if v is not None]
    mine = [r for r in records if r.partition in owned and r.state == "submitted"]
    PENDING_BATCHES.set(len(mine))
    for record in mine:
        try:
            await asyncio.wait_for(
                _poll_record(p, record), timeout=p.settings.provider_timeout_s * 4
            )
        except (ProviderError, TimeoutError) as exc:
            log.warning(
                "polling batch %s failed: %s (retrying next tick)", record.provider_batch_id, exc
            )
        except Exception:
            log.exception("polling batch %s crashed (retrying next tick)", record.provider_batch_id)


async def _poll_record(p: Pipeline, record: BatchRecord) -> None:
    assert record.provider_batch_id is not None
    adapter = p.providers.get(record.provider)
    status = await adapter.poll_batch(record.provider_batch_id)
    if status.state is BatchState.PENDING:
        return
    results: list[ChatResult] = []
    if status.state in (BatchState.ENDED, BatchState.EXPIRED):
        results = await adapter.batch_results(record.provider_batch_id)
    by_id = {r.custom_id: r for r in results}
    retry = []
    for admitted in record.requests:
        result = by_id.get(safe_custom_id(admitted.request.request_id))
        if result is not None and result.ok:
            await p.publish_answer(from_result(admitted, result, Path.BATCH))
        else:
            retry.append((admitted, result))
    for admitted, result in retry:
        code = (
            result.error_code
            if result
            else ("batch_failed" if status.state is BatchState.FAILED else "batch_expired")
        )
        message = (result.error_message if result else None) or status.detail or code
        await reroute_or_fail(p, [admitted], code or "batch_error", message or "batch error")
    done = record.model_copy(update={"state": "done", "requests": [], "updated_at": utcnow()})
    await p.topics.batches.send(
        key=record.record_key.encode(),
        value=done.model_dump_json().encode(),
        partition=record.partition,
    )
    log.info(
        "batch %s %s: %d answered, %d retried or failed",
        record.provider_batch_id, status.state.value, len(record.requests) - len(retry), len(retry),
    )  # fmt: skip
