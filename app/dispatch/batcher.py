"""The batcher: windows batch-path requests into provider batches.

Which requests go out together, and when, is ``frugalflow.dispatch.windows``: one window per
(partition, provider, model), flushed on size, provider caps, age, the earliest deadline
in it, or a drain; packed into batches that keep prompt-prefix groups whole.

Commit order (why nothing is lost or submitted twice):

0. intake hands the batch-path requests it admits straight to the windows
   (``Pipeline.hold_for_batch``: no ``llm.admitted`` hop); each holds its ``llm.requests``
   record, acked by intake's stream in offset order once the request is in a sent batch
   record (step 4). ``llm.admitted`` carries what older workers wrote;
1. take ``llm.admitted`` events without acking (``noack_take`` with a short ``within``:
   the windows live in a buffer across takes, not in the take) and track each one in
   ``OrderedAcks``;
2. buffer each batch-path request in its window. Every other event (corrupt and
   dead-lettered, too large for a batch record and re-published as immediate, or an
   immediate one written here by a worker from before ``llm.admitted.realtime`` and moved
   there) is done at once;
3. when a window flushes, send each of its batches as a ``submitting`` record to
   ``llm.batches`` on the *same partition number* as its requests, so the worker that
   owns the tenants owns the batch; every record fits ``batch_record_max_bytes``. A send
   that fails puts the unsent requests back in their windows;
4. a request is done once the record holding it was sent; events are acked when they and
   every earlier event of their partition are done (``frugalflow.dispatch.ordered_acks`` says why
   Faust needs that order). Faust flushes the producer before committing offsets, so the
   records are durable before the offsets move.

Offsets. A partition's offsets (of ``llm.requests``, and of ``llm.admitted``) commit only up
to its oldest request still in a window. A
crash redelivers at most that stretch (about ``window_max_seconds``): requests already in
a record are skipped by the ledger. Until the oldest window of a partition flushes, the events
behind it stay in memory, un-acked. That is the price of windows longer than one take: keep
``window_max_seconds`` as short as the redelivery you accept.

Time. ``take()`` yields only when events arrive, so a ticker task started by the agent
closes due windows every ``min(0.5 s, window_max_seconds)``: a window flushes on age or
deadline at most one tick late, with or without traffic. The buffer lives in
``register``'s closure, so an agent restarted after a crash keeps it.

Rebalance and stop. Faust waits for every un-acked event before it revokes partitions or
stops (``stream_wait_empty``): held events must be acked, not dropped, or the rebalance
stalls. So from the moment a rebalance starts (``app.rebalancing``, set before the
revocation) or the worker stops, every window is flushed at once (``drain``) while its
partitions are still ours; whoever owns a partition next submits its records. Should an
event of a revoked partition still be held when the revocation completes (possible only
without ``stream_wait_empty``), it is dropped un-acked: Faust seeks a newly assigned
partition to its committed offset, so the new owner reads it again.

The provider call itself happens in the batch ledger (a per-event agent that owns the
batch tables). It skips requests already in a batch, so a record sent twice, or a
redelivered request that lands in another window, is never submitted twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from frugalflow.dispatch.ordered_acks import OrderedAcks, ack_discarded, ack_done
from frugalflow.dispatch.windows import Caps, Flush, Windows, request_size
from frugalflow.events import Admitted, BatchRecord
from frugalflow.pipeline import BATCH_RECORD_HEADROOM, BatchDone, Pipeline, log

MAX_TICK_S = 0.5  # how late a window may flush on age or deadline


@dataclass
class Buffer:
    """What the batcher holds between takes: open windows, and its events not yet acked."""

    windows: Windows[BatchDone]
    acks: OrderedAcks[Any]


def register(p: Pipeline) -> None:
    settings = p.settings
    tick = min(MAX_TICK_S, settings.window_max_seconds)
    buffer = Buffer(
        Windows(
            max_requests=settings.window_max_requests,
            max_age_s=settings.window_max_seconds,
            deadline_margin_s=settings.batch_min_deadline_s,
            caps_of=lambda provider: _caps(p, provider),
        ),
        OrderedAcks(),
    )

    async def hold(admitted: Admitted, partition: int, done: BatchDone) -> None:
        await _send(p, buffer, buffer.windows.add(admitted, done, partition))

    p.hold_for_batch = hold  # intake's batch-path requests, without an llm.admitted hop

    @p.app.agent(p.topics.admitted, name="batcher")
    async def batcher(stream: Any) -> Any:
        ticker = asyncio.ensure_future(_flush_on_time(p, buffer, tick))
        try:
            async for events in stream.noack_take(settings.window_max_requests, within=tick):
                for event in events:
                    await _send(p, buffer, await _take_in(p, stream, buffer, event))
                await _send(p, buffer, _closing(p, buffer))
        finally:
            ticker.cancel()

    @p.app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub names a string type
    async def forget_revoked(app: Any, revoked: Any, **_: Any) -> None:
        name = p.topics.admitted.get_topic_name()
        partitions = {tp.partition for tp in revoked if tp.topic == name}
        buffer.windows.drop(partitions)
        if dropped := buffer.acks.forget(partitions):
            log.warning("dropped %d un-acked batcher events of revoked partitions", dropped)


async def _take_in(p: Pipeline, stream: Any, buffer: Buffer, event: Any) -> list[Flush[BatchDone]]:
    """Put a batch-path request in its window (returning what that closes); ack the rest."""
    message = event.message
    ticket = buffer.acks.track(message.partition, message.offset, event)
    try:
        admitted = await p.parse_internal(Admitted, message)
        if admitted is not None and admitted.path == "batch":
            if request_size(admitted) <= p.settings.batch_record_max_bytes:
                done = partial(ack_done, stream, buffer.acks, ticket)
                return buffer.windows.add(admitted, done, message.partition)
            # Too large to keep in a batch record: serve it right away instead.
            await p.publish_admitted(admitted.model_copy(update={"path": "immediate"}))
        elif admitted is not None:
            # An immediate or flex request written here before the paths had their own
            # topics (a worker upgraded with records in flight): moved, never dropped.
            await p.publish_admitted(admitted)
    except BaseException:
        # Left un-acked and untracked, as before windows: still tracked, it would hold
        # back every later ack of its partition and, still referenced, stall a rebalance.
        await ack_discarded(stream, buffer.acks, ticket)
        raise
    await ack_done(stream, buffer.acks, ticket)
    return []


def _closing(p: Pipeline, buffer: Buffer) -> list[Flush[BatchDone]]:
    if p.app.rebalancing or p.app.should_stop:
        return buffer.windows.drain()
    return buffer.windows.due()


async def _flush_on_time(p: Pipeline, buffer: Buffer, tick: float) -> None:
    while True:
        await asyncio.sleep(tick)
        try:
            await _send(p, buffer, _closing(p, buffer))
        except Exception:  # the unsent requests are back in their windows: retry next tick
            log.exception("sending a batch window failed")


async def _send(p: Pipeline, buffer: Buffer, flushes: list[Flush[BatchDone]]) -> None:
    """One ``submitting`` record per batch; its events are acked once it is sent."""
    batches = [(flush, batch) for flush in flushes for batch in flush.batches]
    for index, (flush, batch) in enumerate(batches):
        requests = [item.admitted for item in batch]
        record = BatchRecord(
            batch_key=batch_key(requests),
            partition=flush.key.partition,
            state="submitting",
            provider=flush.key.provider,
            requests=requests,
        )
        try:
            await p.send(
                p.topics.batches, record.record_key.encode(), record.model_dump_json().encode(),
                partition=flush.key.partition,
            )  # fmt: skip
        except BaseException:
            buffer.windows.put_back(item for _, unsent in batches[index:] for item in unsent)
            raise
        log.info(
            "window %s/%s/p%d closed (%s): batch of %d",
            flush.key.provider, flush.key.model, flush.key.partition, flush.reason, len(batch),
        )  # fmt: skip
        for item in batch:
            await item.token()


def batch_key(requests: Sequence[Admitted]) -> str:
    """Deterministic: the same requests in the same order get the same key."""
    digest = hashlib.sha256()
    for admitted in requests:
        digest.update(admitted.request.tenant_id.encode() + b"\x00")
        digest.update(admitted.request.request_id.encode() + b"\x01")
    return digest.hexdigest()[:24]


def _caps(p: Pipeline, provider: str) -> Caps:
    record_bytes = p.settings.batch_record_max_bytes - BATCH_RECORD_HEADROOM
    try:
        capabilities = p.providers.get(provider).capabilities
    except LookupError:  # not configured: the ledger's submission fails and reroutes
        return Caps(record_bytes)
    return Caps(record_bytes, capabilities.batch_max_requests, capabilities.batch_max_bytes)
