"""The intake agent: one record at a time, because it owns the dedupe table.

Dedupe stores where a request id was first seen (``partition:offset``). A redelivery of
that same record after a crash is processed again (its earlier output may not have been
flushed); a *different* record with the same id is a duplicate and is dead-lettered.

Then the stream policies decide (``app.intake.policies``): safety, pattern responder,
response cache, router, rate limits and the budget reservation.

A request under a running A/B experiment is served as its variant says and announced by
an ``impression`` on ``llm.feedback`` (``app.experiments.live``); a variant that cannot
serve it never gets it rejected: it is served as asked, without the experiment.
"""

from __future__ import annotations

from typing import Any

from app.dispatch.answers import Answer
from app.events import Admitted, DeadLetter
from app.experiments.live import trial
from app.intake.policies import ROUTE_CODES, decide
from app.intake.validate import Reason, dead_letter, validate_record
from app.pipeline import Pipeline, log


def dedupe_key(tenant_id: str, request_id: str) -> str:
    return f"{len(tenant_id)}:{tenant_id}:{request_id}"  # length prefix: unambiguous


def register(p: Pipeline) -> None:
    seen = p.app.Table(
        "intake-seen", default=None, partitions=p.settings.partitions, key_type=str, value_type=str
    )
    p.tables["seen"] = seen

    @p.app.agent(p.topics.requests, name="intake")
    async def intake(stream: Any) -> Any:
        async for event in stream.events():
            await _handle(p, seen, event.message)

    async def _handle(p: Pipeline, seen: Any, msg: Any) -> None:
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
        if first_seen is not None and first_seen != origin:
            letter = dead_letter(
                Reason.DUPLICATE_REQUEST,
                f"request_id {request.request_id!r} was already accepted at {first_seen}",
                msg.key, msg.value, msg.topic, msg.partition, msg.offset,
            )  # fmt: skip
            await p.publish_dead_letter(letter, msg.key)
            return
        seen[key] = origin
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
