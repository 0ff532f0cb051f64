"""The intake agent: one record at a time, because it owns the dedupe table.

Dedupe stores where a request id was first seen (``partition:offset``) and when (record
time). A redelivery of that same record after a crash is processed again (its earlier
output may not have been flushed); a *different* record with the same id within
``dedupe_ttl_s`` of the first is a duplicate and is dead-lettered. Older entries are
deleted a few per event (``frugalflow.table_ttl``), so the table holds one TTL of traffic.

Then the stream policies decide (``frugalflow.intake.policies``): safety, pattern responder,
response cache, router, rate limits and the budget reservation.

A request under a running A/B experiment is served as its variant says and announced by
an ``impression`` on ``llm.feedback`` (``frugalflow.experiments.live``); a variant that cannot
serve it never gets it rejected: it is served as asked, without the experiment.
"""

from __future__ import annotations

from typing import Any

from frugalflow.dispatch.answers import Answer
from frugalflow.events import Admitted, DeadLetter
from frugalflow.experiments.live import trial
from frugalflow.intake.policies import ROUTE_CODES, decide
from frugalflow.intake.validate import Reason, dead_letter, validate_record
from frugalflow.pipeline import Pipeline, log
from frugalflow.table_ttl import Stamp, TableTTL, rebuild_on_recovery, record_time

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

    @p.app.agent(p.topics.requests, name="intake")
    async def intake(stream: Any) -> Any:
        async for event in stream.events():
            msg = event.message
            now = record_time(msg.timestamp)
            expiry.prune(msg.partition, now)
            await _handle(p, seen, expiry, msg, now)

    async def _handle(p: Pipeline, seen: Any, expiry: TableTTL, msg: Any, now: float) -> None:
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
            return
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
            return
        under_trial = trial(request, p.experiments)
        if under_trial is not None:
            outcome = await decide(p, under_trial.request)
            error = outcome.response.error if isinstance(outcome, Answer) else None
            if error is None or error.code not in ROUTE_CODES:
                await _publish(p, outcome)
                if isinstance(outcome, Admitted):
                    await p.publish_feedback(under_trial.impression(outcome.admitted_at))
                return
            log.warning("experiment %s: variant %r cannot serve request %s (%s); served "
                        "without the experiment", under_trial.experiment_id, under_trial.variant,
                        request.request_id, error.message)  # fmt: skip
        await _publish(p, await decide(p, request))


async def _publish(p: Pipeline, outcome: Admitted | Answer) -> None:
    if isinstance(outcome, Admitted):
        await p.publish_admitted(outcome)
    else:
        await p.publish_answer(outcome)
