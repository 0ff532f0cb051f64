"""The intake agent: one record at a time, because it owns the dedupe table.

Dedupe stores where a request id was first seen (``partition:offset``) and when (record
time). A redelivery of that same record after a crash is processed again (its earlier
output may not have been flushed); a *different* record with the same id within
``dedupe_ttl_s`` of the first is a duplicate and is dead-lettered. Older entries are
deleted a few per event (``frugalflow.table_ttl``), so the table holds one TTL of traffic.

Then the stream policies decide (``frugalflow.intake.policies``): safety, pattern responder,
response cache, router, rate limits and the budget reservation.

Intake then serves what it admitted without another Kafka hop: an immediate request is
called in a task of its own (``frugalflow.dispatch.inflight``, at most
``immediate_concurrency`` at once), and a batch-path one goes into the batcher's windows
(``Pipeline.hold_for_batch``) while windows are short (``HOLD_WINDOWS_UP_TO_S``). Its
record is acked once the answer is published, or once the batch record holding it is
sent, in offset order per partition (``frugalflow.dispatch.ordered_acks``): a crash before
that reads the record again, and the dedupe entry above lets it through. Flex requests,
which may wait minutes on the flex tier, still go to ``llm.admitted.realtime`` and the
immediate agent, so that no request holds intake's offsets that long.

A request under a running A/B experiment is served as its variant says and announced by
an ``impression`` on ``llm.feedback`` (``frugalflow.experiments.live``); a variant that cannot
serve it never gets it rejected: it is served as asked, without the experiment.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from frugalflow.dispatch.answers import Answer
from frugalflow.dispatch.immediate import answer_immediately
from frugalflow.dispatch.inflight import CallsInFlight
from frugalflow.dispatch.ordered_acks import OrderedAcks, Ticket, ack_discarded, ack_done
from frugalflow.dispatch.windows import request_size
from frugalflow.events import Admitted, DeadLetter
from frugalflow.experiments.live import trial
from frugalflow.intake.policies import ROUTE_CODES, decide
from frugalflow.intake.validate import Reason, dead_letter, validate_record
from frugalflow.pipeline import Pipeline, log
from frugalflow.table_ttl import Stamp, TableTTL, rebuild_on_recovery, record_time

# Intake holds batch-path requests in the batcher's windows only while windows are about
# as short as Faust's commit interval (2.8 s): a held record holds back the acks of the
# later records of its partition, immediate ones included, and a crash calls those again.
# Longer windows go through llm.admitted, where only batch-path requests wait.
HOLD_WINDOWS_UP_TO_S = 5.0

# Index entries looked at per event: one event adds at most one, so the table shrinks
# back to one TTL of traffic after any backlog.
PRUNE_BUDGET = 4


def dedupe_key(tenant_id: str, request_id: str) -> str:
    return f"{len(tenant_id)}:{tenant_id}:{request_id}"  # length prefix: unambiguous


def seen_value(origin: str, at: float) -> str:
    """``partition:offset@record time``; the time is what the dedupe window counts from."""
    return f"{origin}@{at:.3f}"


def seen_origin(value: str) -> str:
    return value.partition("@")[0]


def seen_stamp(value: str) -> Stamp:
    """Values written before the window existed are a bare ``partition:offset``."""
    origin, _, at = value.partition("@")
    return Stamp(partition=int(origin.partition(":")[0]), at=float(at) if at else None)


def register(p: Pipeline) -> None:
    seen = p.app.Table(
        "intake-seen", default=None, partitions=p.settings.partitions, key_type=str, value_type=str
    )
    p.tables["seen"] = seen
    expiry = TableTTL(seen, ttl_s=p.settings.dedupe_ttl_s, budget=PRUNE_BUDGET, parse=seen_stamp)
    rebuild_on_recovery(seen, expiry)

    acks: OrderedAcks[Any] = OrderedAcks()  # this stream's events, acked in offset order
    calls = CallsInFlight(p.settings.immediate_concurrency)

    @p.app.agent(p.topics.requests, name="intake")
    async def intake(stream: Any) -> Any:
        async for event in stream.noack().events():
            calls.raise_failure()
            msg = event.message
            ticket = acks.track(msg.partition, msg.offset, event)
            try:
                now = record_time(msg.timestamp)
                expiry.prune(msg.partition, now)
                held = await _handle(p, seen, expiry, msg, now)
                if held is not None and held.path == "batch":
                    # Acked once its batch record is sent (the batcher's windows).
                    done = partial(ack_done, stream, acks, ticket)
                    await p.hold_for_batch(held, msg.partition, done)
            except BaseException:
                # As in the batcher: left un-acked and untracked.
                await ack_discarded(stream, acks, ticket)
                raise
            if held is None:
                await ack_done(stream, acks, ticket)
            elif held.path == "immediate":
                await calls.start(partial(_answer_then_ack, stream, ticket, held))

    async def _answer_then_ack(stream: Any, ticket: Ticket[Any], admitted: Admitted) -> None:
        """An immediate request, answered here: acked once answered (and every earlier
        record of its partition is done), so a crash before that reads it again."""
        try:
            await answer_immediately(p, admitted)
        except Exception:  # raised again in intake's loop (CallsInFlight); cancelled: kept
            await ack_discarded(stream, acks, ticket)
            raise
        await ack_done(stream, acks, ticket)

    @p.app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub names a string type
    async def forget_revoked(app: Any, revoked: Any, **_: Any) -> None:
        # Faust waited for every tracked event first (stream_wait_empty); anything left is
        # read again from the committed offset by the partition's next owner.
        name = p.topics.requests.get_topic_name()
        if dropped := acks.forget({tp.partition for tp in revoked if tp.topic == name}):
            log.warning("dropped %d un-acked requests of revoked partitions", dropped)

    async def _handle(
        p: Pipeline, seen: Any, expiry: TableTTL, msg: Any, now: float
    ) -> Admitted | None:
        """Everything intake does for one record; returns the admitted request that intake
        serves itself (an immediate call, a batch window), if it is one; every other
        outcome is published before this returns."""
        result = validate_record(
            msg.key,
            msg.value,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            max_value_bytes=p.settings.max_value_bytes,
        )
        if isinstance(result, DeadLetter):
            await p.publish_dead_letter(result, msg.key)
            return None
        request = result
        key, origin = (
            dedupe_key(request.tenant_id, request.request_id),
            f"{msg.partition}:{msg.offset}",
        )
        first_seen = seen.get(key)
        if first_seen is None:
            seen[key] = seen_value(origin, now)
            expiry.track(msg.partition, key, now)
        elif seen_origin(first_seen) != origin:
            letter = dead_letter(
                Reason.DUPLICATE_REQUEST,
                f"request_id {request.request_id!r} was already accepted at "
                f"{seen_origin(first_seen)}",
                msg.key, msg.value, msg.topic, msg.partition, msg.offset,
            )  # fmt: skip
            await p.publish_dead_letter(letter, msg.key)
            return None
        under_trial = trial(request, p.experiments)
        if under_trial is not None:
            outcome = await decide(p, under_trial.request)
            error = outcome.response.error if isinstance(outcome, Answer) else None
            if error is None or error.code not in ROUTE_CODES:
                call = await _publish(p, outcome)
                if isinstance(outcome, Admitted):
                    await p.publish_feedback(under_trial.impression(outcome.admitted_at))
                return call
            log.warning("experiment %s: variant %r cannot serve request %s (%s); served "
                        "without the experiment", under_trial.experiment_id, under_trial.variant,
                        request.request_id, error.message)  # fmt: skip
        return await _publish(p, await decide(p, request))


async def _publish(p: Pipeline, outcome: Admitted | Answer) -> Admitted | None:
    """Publish the outcome, except an immediate or batch-path request: returned, for
    intake to call it or hold it in a batch window (no second Kafka hop)."""
    if isinstance(outcome, Answer):
        await p.publish_answer(outcome)
        return None
    if outcome.path == "batch" and request_size(outcome) > p.settings.batch_record_max_bytes:
        # Too large to keep in a batch record: served right away instead (as the batcher does).
        return outcome.model_copy(update={"path": "immediate"})
    if outcome.path == "immediate" or (
        outcome.path == "batch" and p.settings.window_max_seconds <= HOLD_WINDOWS_UP_TO_S
    ):
        return outcome
    # Flex (the immediate agent: it may wait minutes), or a batch request under long windows.
    await p.publish_admitted(outcome)
    return None
