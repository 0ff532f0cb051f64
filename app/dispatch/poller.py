"""The batch poller: a timer that checks every submitted batch this worker owns.

It only *reads* the ledger's tables (timers cannot write them) and reports progress by
sending a ``done`` record to ``llm.batches``, which the ledger applies, settling the
budget reservations of the answers the record lists. Order per batch: publish every
answer, then the ``done`` record. A crash in between re-answers the batch
after restart: the same responses and cost events with the same ids, counted once.
Because the table is restored from its changelog at start, a restarted worker resumes
polling every batch it owned; none is lost and none is submitted again.

Polling backs off: a batch still pending (or whose poll failed) is next polled after
twice the previous delay, from ``batch_poll_interval_s`` up to
``batch_poll_max_interval_s``, so a 24-hour batch costs a few hundred calls, not 17,000.
The schedule lives in memory: after a restart every batch is simply polled at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from frugalflow.dispatch.answers import from_result
from frugalflow.dispatch.batch_ledger import reroute_or_fail, settlement
from frugalflow.events import BatchRecord, Path, utcnow
from frugalflow.metrics import PENDING_BATCHES
from frugalflow.pipeline import Pipeline, log
from frugalflow.providers.base import BatchState, ChatResult, ProviderError
from frugalflow.providers.ids import safe_custom_id


class PollSchedule:
    """When each batch is next due: exponential backoff per batch, capped."""

    def __init__(self, base_s: float, max_s: float, clock: Callable[[], float] = time.monotonic):
        self._base, self._max, self._clock = base_s, max(base_s, max_s), clock
        self._next: dict[str, tuple[float, float]] = {}  # key -> (due at, last delay)
        # Answered here; the ledger may still list them as submitted until it applies our
        # ``done`` record, and answering them again would reroute failed lines twice.
        self._finished: set[str] = set()

    def due(self, key: str) -> bool:
        if key in self._finished:
            return False
        entry = self._next.get(key)
        return entry is None or self._clock() >= entry[0]

    def finish(self, key: str) -> None:
        self._finished.add(key)
        self._next.pop(key, None)

    def postpone(self, key: str) -> float:
        """Still pending or failed: wait twice as long as last time (capped)."""
        last = self._next.get(key, (0.0, self._base / 2))[1]
        delay = min(self._max, last * 2)
        self._next[key] = (self._clock() + delay, delay)
        return delay

    def keep_only(self, keys: set[str]) -> None:
        """Forget batches no longer submitted here (done, or their partition moved)."""
        for key in set(self._next) - keys:
            del self._next[key]
        self._finished &= keys


def register(p: Pipeline) -> None:
    schedule = PollSchedule(p.settings.batch_poll_interval_s, p.settings.batch_poll_max_interval_s)

    @p.app.timer(p.settings.batch_poll_interval_s, name="batch-poller")
    async def poll_batches() -> None:
        await poll_once(p, schedule)


def _owned_partitions(p: Pipeline) -> set[int]:
    name = p.topics.batches.get_topic_name()
    return {tp.partition for tp in p.app.assignor.assigned_actives() if tp.topic == name}


def _submitted_here(pending: Any, owned: set[int]) -> dict[str, dict[str, Any]]:
    """The raw records of batches submitted from partitions this worker owns, by record key
    (the table's key, ``BatchRecord.record_key``)."""
    return {
        key: value
        for key, value in list(pending.items())
        if value is not None and value.get("state") == "submitted"
        and value.get("partition") in owned
    }  # fmt: skip


async def poll_once(p: Pipeline, schedule: PollSchedule) -> None:
    owned = _owned_partitions(p)
    mine = _submitted_here(p.tables["batches_pending"], owned)
    PENDING_BATCHES.set(len(mine))
    schedule.keep_only(set(mine))
    for gone in set(p.submitted_slices) - set(mine):  # done, or its partition moved
        del p.submitted_slices[gone]
    for key, value in mine.items():
        if not schedule.due(key):
            continue
        record = _record(p, key, value)
        try:
            finished = await asyncio.wait_for(
                _poll_record(p, record), timeout=p.settings.provider_timeout_s * 4
            )
        except (ProviderError, TimeoutError) as exc:
            delay = schedule.postpone(record.record_key)
            log.warning("polling batch %s failed: %s (next try in %.0fs)",
                        record.provider_batch_id, exc, delay)  # fmt: skip
        except Exception:
            delay = schedule.postpone(record.record_key)
            log.exception("polling batch %s crashed (next try in %.0fs)",
                          record.provider_batch_id, delay)  # fmt: skip
        else:
            if finished:
                schedule.finish(record.record_key)
            else:
                schedule.postpone(record.record_key)


def _record(p: Pipeline, key: str, value: dict[str, Any]) -> BatchRecord:
    """The slice as submitted here, or else parsed (only when due: a record holds every
    request of its slice, and parsing each pending one on every tick cost CPU in
    proportion to the backlog)."""
    kept = p.submitted_slices.get(key)
    if kept is not None and kept[0] is value:  # the very value the ledger wrote
        return kept[1]
    return BatchRecord.model_validate(value)


async def _poll_record(p: Pipeline, record: BatchRecord) -> bool:
    """Poll once; when the batch has ended, answer it. True when the batch is finished."""
    assert record.provider_batch_id is not None
    adapter = p.providers.get(record.provider)
    status = await adapter.poll_batch(record.provider_batch_id)
    if status.state is BatchState.PENDING:
        return False
    results: list[ChatResult] = []
    if status.state in (BatchState.ENDED, BatchState.EXPIRED):
        results = await adapter.batch_results(record.provider_batch_id)
    by_id = {r.custom_id: r for r in results}
    retry, settled = [], []
    for admitted in record.requests:
        result = by_id.get(safe_custom_id(admitted.request.request_id))
        if result is not None and result.ok:
            answer = from_result(admitted, result, Path.BATCH)
            await p.publish_answer(answer, admitted, settle=False)
            settled.append(settlement(answer))
        else:
            retry.append((admitted, result))
    for admitted, result in retry:
        code = (
            result.error_code
            if result
            else ("batch_failed" if status.state is BatchState.FAILED else "batch_expired")
        )
        message = (result.error_message if result else None) or status.detail or code
        settled += await reroute_or_fail(
            p, [admitted], code or "batch_error", message or "batch error", settle=False
        )
    done = record.model_copy(
        update={"state": "done", "requests": [], "settled": settled, "updated_at": utcnow()}
    )
    await p.send(
        p.topics.batches, record.record_key.encode(), done.model_dump_json().encode(),
        partition=record.partition,
    )  # fmt: skip
    log.info(
        "batch %s %s: %d answered, %d retried or failed",
        record.provider_batch_id, status.state.value, len(record.requests) - len(retry), len(retry),
    )  # fmt: skip
    return True
