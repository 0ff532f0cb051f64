"""The immediate path: concurrent provider calls.

Intake calls ``answer_immediately`` itself for the immediate requests it admits
(``frugalflow.intake.agent``). The agent here serves ``llm.admitted.realtime``: flex requests,
which may wait minutes on the flex tier, and immediate ones published there by an older
worker or moved there by the batcher. Several actors share the topic (``concurrency``);
each event is done once its answer is published, so a crash re-runs at most the calls in
flight.

Acks go out in offset order (``frugalflow.dispatch.ordered_acks``): an event is acked once it
and every earlier event of its partition are done. The actors finish out of order (a
retried call ends seconds after its successors), and faust-streaming 0.15.3 commits past
an unfinished event when a later one is acked: it commits the first run of consecutive
acked offsets, refusing only when ``min(acked) - committed > 1`` (off by one: the event
*at* the committed offset is skipped) and checking nothing while no offset is committed
yet (a fresh group, or offset 0). A kill -9 after such a commit lost the unfinished
requests for good (``tests/reliability/test_immediate_crashes.py`` shows it). The actors
share one ``OrderedAcks`` and track an event before their first ``await``: they take
events from one queue in offset order, so tracking order is offset order and no ack can
get ahead of an event that another actor has taken but not tracked yet.

Every call goes through the (provider, model) circuit breaker the Pipeline owns
(``p.circuits``): while it is open the provider is not called. A failed or refused call
goes down the fallback chain (``frugalflow.dispatch.fallback``): another provider of the same
tier, a stale cached answer, a static answer, else the error with its stable code.
"""

from __future__ import annotations

from typing import Any

from frugalflow.costing.rates import Mode
from frugalflow.dispatch.answers import from_result
from frugalflow.dispatch.calls import call_provider, failure
from frugalflow.dispatch.fallback import answer_failure
from frugalflow.dispatch.flex import FlexOutcome, flex_budget_s, try_flex
from frugalflow.dispatch.ordered_acks import OrderedAcks, ack_discarded, ack_done
from frugalflow.events import Admitted, Path, utcnow
from frugalflow.pipeline import Pipeline, log
from frugalflow.providers.base import ChatResult
from frugalflow.providers.circuit import CIRCUIT_OPEN


def register(p: Pipeline) -> None:
    acks: OrderedAcks[Any] = OrderedAcks()  # shared by every actor; see the module doc

    @p.app.agent(p.topics.realtime, name="immediate", concurrency=p.settings.immediate_concurrency)
    async def immediate(stream: Any) -> Any:
        async for event in stream.noack().events():
            message = event.message
            ticket = acks.track(message.partition, message.offset, event)  # before any await
            try:
                admitted = await p.parse_internal(Admitted, message)
                if admitted is not None and admitted.path == "immediate":
                    await answer_immediately(p, admitted)
                elif admitted is not None and admitted.path == "flex":
                    await answer_flex(p, admitted)
                elif admitted is not None:  # never published here; still, never lost
                    await p.publish_admitted(admitted)
            except BaseException:
                # As in the batcher: left un-acked and untracked (still tracked, it would
                # hold back every later ack of its partition and stall a rebalance).
                await ack_discarded(stream, acks, ticket)
                raise
            await ack_done(stream, acks, ticket)

    @p.app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub names a string type
    async def forget_revoked(app: Any, revoked: Any, **_: Any) -> None:
        # Faust waited for every tracked event first (stream_wait_empty); anything left is
        # read again from the committed offset by the partition's next owner.
        name = p.topics.realtime.get_topic_name()
        if dropped := acks.forget({tp.partition for tp in revoked if tp.topic == name}):
            log.warning("dropped %d un-acked immediate events of revoked partitions", dropped)


async def answer_immediately(p: Pipeline, admitted: Admitted) -> None:
    breakers = p.circuits
    if breakers.allow(admitted.provider, admitted.model):
        result = await call_provider(p, admitted)
        breakers.record(admitted.provider, admitted.model, result)
    else:
        result = failure(
            admitted, CIRCUIT_OPEN, f"{admitted.provider}/{admitted.model} is failing; not called"
        )
    if result.ok:
        await p.publish_answer(from_result(admitted, result, Path.IMMEDIATE), admitted)
        return
    log.warning("immediate call failed for %s: %s", admitted.request.request_id, result.error_code)
    await p.publish_answer(await answer_failure(p, admitted, result, Path.IMMEDIATE), admitted)


async def answer_flex(p: Pipeline, admitted: Admitted) -> None:
    """The flex tier first (frugalflow.dispatch.flex), then the standard tier if it will not do."""
    standard_s = p.settings.provider_timeout_s * 2.5
    budget = flex_budget_s(admitted, utcnow(), p.settings.flex_wait_s, standard_s)
    outcome = FlexOutcome(None, 0, "no time left on the flex tier before the deadline")
    if budget > 0 and p.circuits.allow(admitted.provider, admitted.model):

        async def call(a: Admitted, tier: Mode | None, timeout_s: float) -> ChatResult:
            return await call_provider(p, a, service_tier=tier, timeout_s=timeout_s)

        outcome = await try_flex(admitted, call, budget)
    if outcome.result is not None:
        p.circuits.record(admitted.provider, admitted.model, outcome.result)
        await p.publish_answer(from_result(admitted, outcome.result, Path.FLEX), admitted)
        return
    log.info("flex: %s for %s", outcome.why_standard, admitted.request.request_id)
    reason = f"{admitted.route_reason}; {outcome.why_standard}"
    await answer_immediately(
        p, admitted.model_copy(update={"path": "immediate", "route_reason": reason})
    )
