"""The batch ledger: the one per-event agent that submits batches and owns their tables.

Tables (partitioned like ``llm.batches``, whose records sit on their tenants' partition):

* ``batches-pending``: record key → the batch slice (state ``submitting`` or ``submitted``),
  polled by the poller timer until answered;
* ``batches-requests``: request → record key while its batch is pending, then
  ``done@<record time>@<partition>`` once answered, so a redelivered window whose
  requests sit, or sat, in a batch is never submitted again. Done entries outlive their
  batch on purpose (after a crash, ``llm.admitted`` may be redelivered *after* the
  restarted worker has already finished the batch) for ``batch_membership_ttl_s``, then
  are deleted a slice's worth per event (``frugalflow.table_ttl``); pending ones never expire.
  (``done:<key>``: a done entry written before the TTL existed.)

A slice is written ``submitting`` (and flushed to the changelog) before the provider
call, and ``submitted`` with the provider's batch id after it. If the worker dies in
between, the redelivered record finds ``submitting`` and first asks the provider for a
batch carrying this record's key in its metadata: found, it is adopted, not resubmitted.
Providers without batch metadata (Anthropic) cannot answer that question, so for them a
crash in that window of milliseconds submits the slice again; answers and costs stay
single downstream (stable ids), only the provider bill is doubled for that slice.

Submissions go through the (provider, model) circuit breaker shared with the immediate
path: while it is open the slice is not submitted and its requests take the same way as
after a failed submission (``reroute_or_fail``, code ``circuit_open``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from frugalflow.dispatch.answers import Answer
from frugalflow.dispatch.fallback import answer_failure
from frugalflow.dispatch.requests import deadline_allows_immediate, to_chat_request
from frugalflow.events import Admitted, BatchRecord, Path, Settlement, utcnow
from frugalflow.intake.agent import dedupe_key
from frugalflow.metrics import BATCH_SIZE
from frugalflow.pipeline import Pipeline, log
from frugalflow.providers.base import BATCH_MARKER, ChatResult, ProviderError
from frugalflow.providers.circuit import CIRCUIT_OPEN
from frugalflow.table_ttl import Stamp, TableTTL, rebuild_on_recovery, record_time

DONE = "done@"
LEGACY_DONE = "done:"  # written before done entries expired: no time, no partition


def done_value(at: float, partition: int) -> str:
    # No record key: nothing reads it, and these entries are the bulk of the table.
    return f"{DONE}{at:.3f}@{partition}"


def done_stamp(value: Any) -> Stamp | None:
    """Done entries expire; a pending member (its batch's record key) never does."""
    if not isinstance(value, str):
        return None
    if value.startswith(DONE):
        at, _, partition = value.removeprefix(DONE).partition("@")
        return Stamp(partition=int(partition), at=float(at))
    if value.startswith(LEGACY_DONE):
        return Stamp(partition=None, at=None)
    return None


def register(p: Pipeline) -> None:
    pending = p.app.Table("batches-pending", default=None, partitions=p.settings.partitions)
    members = p.app.Table("batches-requests", default=None, partitions=p.settings.partitions)
    p.tables["batches_pending"] = pending
    p.tables["batches_requests"] = members
    # One done record adds at most a slice (<= window_max_requests members) and every
    # slice brings two events (submitting, done): this budget keeps up with any traffic.
    expiry = TableTTL(
        members, ttl_s=p.settings.batch_membership_ttl_s,
        budget=p.settings.window_max_requests, parse=done_stamp,
    )  # fmt: skip
    rebuild_on_recovery(members, expiry)

    @p.app.agent(p.topics.batches, name="batch-ledger")
    async def ledger(stream: Any) -> Any:
        async for event in stream.events():
            msg = event.message
            now = record_time(msg.timestamp)
            expiry.prune(msg.partition, now)
            if msg.value is None:  # compaction tombstone
                continue
            record = await p.parse_internal(BatchRecord, msg)
            if record is None:
                continue
            if record.state == "submitting":
                await _submit(p, pending, members, record)
            elif record.state == "done":
                # the poller answered them; it cannot settle (a timer writes no table)
                await p.settle([(s.tenant_id, s.request_id, s.cost_usd) for s in record.settled])
                _finish(pending, members, record.record_key, expiry, msg.partition, now)


async def _submit(p: Pipeline, pending: Any, members: Any, record: BatchRecord) -> None:
    key = record.record_key
    current = pending.get(key)
    if current is not None and current["state"] == "submitted":
        return  # redelivered after a successful submit
    fresh: list[Admitted] = []
    taken: dict[str, None] = {}  # their members, in order
    for admitted in record.requests:
        member = _member(admitted)
        # Skip requests of another (or a finished) batch, and repeats inside this record.
        if member not in taken and members.get(member) in (None, key):
            taken[member] = None
            fresh.append(admitted)
    if not fresh:
        return
    model, breakers = fresh[0].model, p.circuits  # a record holds one model
    if not breakers.allow(record.provider, model):
        log.warning(
            "circuit %s/%s open: %d requests not batched", record.provider, model, len(fresh)
        )
        _release(pending, members, key)  # an interrupted submit of this record, if any
        await reroute_or_fail(p, fresh, CIRCUIT_OPEN, f"{record.provider}/{model} is failing")
        return
    for member in taken:
        members[member] = key
    interrupted = current is not None and current["state"] == "submitting"
    slice_ = record.model_copy(update={"requests": fresh, "updated_at": utcnow()})
    intent = slice_.model_dump(mode="json")
    pending[key] = intent
    await p.app.producer.flush()  # the intent is durable before the provider sees the batch
    adapter = p.providers.get(record.provider)
    try:
        batch_id = None
        if interrupted:  # we crashed mid-submit last time: did the provider accept it?
            since = BatchRecord.model_validate(current).updated_at.timestamp() - 60
            batch_id = await asyncio.wait_for(
                adapter.find_batch(key, since), timeout=p.settings.provider_timeout_s * 2.5
            )
            if batch_id:
                log.info("adopted %s batch %s accepted before a crash", record.provider, batch_id)
        if batch_id is None:
            batch_id = await asyncio.wait_for(
                adapter.submit_batch(
                    [to_chat_request(a) for a in fresh], metadata={BATCH_MARKER: key}
                ),
                timeout=p.settings.provider_timeout_s * 2.5,
            )
    except (ProviderError, TimeoutError) as exc:
        breakers.record(record.provider, model, exc)
        code = exc.code if isinstance(exc, ProviderError) else "provider_timeout"
        log.warning("batch submit failed (%s); %d requests go immediate", code, len(fresh))
        _release(pending, members, key)
        await reroute_or_fail(p, fresh, code, f"batch submission failed: {exc}")
        return
    breakers.record_success(record.provider, model)
    now = utcnow()
    changes = {"state": "submitted", "provider_batch_id": batch_id, "submitted_at": now,
               "updated_at": now}  # fmt: skip
    submitted = slice_.model_copy(update=changes)
    # Only these fields change: the slice's requests are not serialized a second time.
    value = {**intent, **submitted.model_dump(mode="json", include=set(changes))}
    pending[key] = value
    p.submitted_slices[key] = (value, submitted)
    await p.app.producer.flush()
    BATCH_SIZE.observe(len(fresh))
    log.info("submitted %s batch %s with %d requests", record.provider, batch_id, len(fresh))


async def reroute_or_fail(
    p: Pipeline, requests: list[Admitted], code: str, message: str, *, settle: bool = True
) -> list[Settlement]:
    """Requests the batch path could not answer go immediate if their deadline allows;
    the others are answered here. Returns what those answers cost, to settle when
    ``settle`` is False (the poller: a timer cannot write the budget ledger)."""
    now, answered = utcnow(), []
    for admitted in requests:
        if deadline_allows_immediate(admitted, now, p.settings.provider_timeout_s):
            await p.publish_admitted(admitted.model_copy(update={"path": "immediate"}))
        else:
            failure = ChatResult(
                custom_id=admitted.request.request_id, ok=False, model=admitted.model,
                error_code=code, error_message=message,
            )  # fmt: skip
            # No time left for another provider: stale or static answer, else the error.
            answer = await answer_failure(p, admitted, failure, Path.BATCH, may_call=False)
            await p.publish_answer(answer, admitted, settle=settle)
            answered.append(settlement(answer))
    return answered


def settlement(answer: Answer) -> Settlement:
    response = answer.response
    return Settlement(
        tenant_id=response.tenant_id, request_id=response.request_id, cost_usd=response.cost_usd
    )


def _member(admitted: Admitted) -> str:
    return dedupe_key(admitted.request.tenant_id, admitted.request.request_id)


def _finish(
    pending: Any, members: Any, key: str, expiry: TableTTL, partition: int, now: float
) -> None:
    """Every request of the slice is answered: stop polling, remember them as done."""
    done = done_value(now, partition)
    for member in _members_of(pending, key):
        if members.get(member) == key:
            members[member] = done
            expiry.track(partition, member, now)
    pending.pop(key, None)


def _release(pending: Any, members: Any, key: str) -> None:
    """The provider refused the slice: its requests are free to be served elsewhere."""
    for member in _members_of(pending, key):
        if members.get(member) == key:
            del members[member]
    pending.pop(key, None)


def _members_of(pending: Any, key: str) -> list[str]:
    current = pending.get(key) or {}
    return [
        dedupe_key(entry["request"]["tenant_id"], entry["request"]["request_id"])
        for entry in current.get("requests", [])
    ]
