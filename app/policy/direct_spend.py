"""Direct spend in budgets (issue 18): provider calls booked by the client's ``track_cost``.

The client publishes each direct call's ``CostEvent`` (``path: direct``) on
``llm.direct-costs``, keyed by tenant like every tenant-scoped topic, so this per-event
agent runs on the worker that owns the tenant's budget ledger. For each event it

1. books the cost as *spent* in the ledger (the same table and ``BudgetBook`` in which
   answers are settled: a reservation settled at once at the real cost), in
   the scopes of its service and use case, on the UTC day the call happened — so direct
   spend moves hard stops like any other;
2. sends the budget alerts now due (once per budget, threshold and period, remembered in
   the ledger as for answers);
3. forwards the event to ``llm.cost-events``, where the sink stores it (idempotent on
   ``event_id``), so it is in the reports.

A redelivered event is booked once: its id is kept in a table of its own for
``FRUGALFLOW_DEDUPE_TTL_S`` (pruned a few keys per event, ``frugalflow.table_ttl``); the forward
is repeated, which the sink absorbs. The topic carries low volume (direct calls only),
so the answer path pays nothing for this stage.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from frugalflow.events import CostEvent, Path
from frugalflow.intake.validate import Reason, dead_letter
from frugalflow.pipeline import Pipeline, raw_topic
from frugalflow.policy.budget import BudgetBook, scopes_of
from frugalflow.policy.ledger import publish_alerts
from frugalflow.table_ttl import Stamp, TableTTL, rebuild_on_recovery, record_time

TOPIC = "llm.direct-costs"
PRUNE_BUDGET = 4  # one event adds at most one key


def seen_key(tenant_id: str, event_id: str) -> str:
    return f"{len(tenant_id)}:{tenant_id}:{event_id}"  # length prefix: unambiguous


def seen_stamp(value: str) -> Stamp:
    """Values are ``partition@record time``."""
    partition, _, at = value.partition("@")
    return Stamp(partition=int(partition), at=float(at))


def register(p: Pipeline) -> None:
    seen = p.app.Table(
        "direct-spend-seen", default=None, partitions=p.settings.partitions,
        key_type=str, value_type=str,
    )  # fmt: skip
    expiry = TableTTL(seen, ttl_s=p.settings.dedupe_ttl_s, budget=PRUNE_BUDGET, parse=seen_stamp)
    rebuild_on_recovery(seen, expiry)
    topic = raw_topic(p.app, p.settings, TOPIC)

    @p.app.agent(topic, name="direct-spend")
    async def book(stream: Any) -> Any:
        async for event in stream.events():
            msg = event.message
            now = record_time(msg.timestamp)
            expiry.prune(msg.partition, now)
            cost = await _valid(p, msg)
            if cost is None:
                continue
            key = seen_key(cost.tenant_id, cost.event_id)
            if seen.get(key) is None:
                seen[key] = f"{msg.partition}@{now:.3f}"
                expiry.track(msg.partition, key, now)
                await book_spend(p, cost)
            await p.send(p.topics.cost_events, msg.key, msg.value)


async def _valid(p: Pipeline, msg: Any) -> CostEvent | None:
    """The event, or None after dead-lettering it (not a direct cost, or a key that would
    book it on a worker that does not own the tenant's ledger)."""
    cost = await p.parse_internal(CostEvent, msg)
    if cost is None:
        return None
    problem = None
    if cost.path is not Path.DIRECT:
        problem = Reason.INVALID_FIELD, f"path: {cost.path.value!r}, expected 'direct'"
    elif msg.key != cost.tenant_id.encode():
        problem = Reason.KEY_MISMATCH, f"record key != tenant_id {cost.tenant_id!r}"
    if problem is None:
        return cost
    reason, detail = problem
    letter = dead_letter(reason, detail, msg.key, msg.value, msg.topic, msg.partition, msg.offset)
    await p.publish_dead_letter(letter, msg.key)
    return None


async def book_spend(p: Pipeline, cost: CostEvent) -> None:
    book = BudgetBook(p.tables["budget_ledger"])
    tenant, day = cost.tenant_id, cost.occurred_at.astimezone(UTC).date()
    scopes = scopes_of(cost.service, cost.use_case)
    hold = f"direct:{cost.event_id}"
    book.reserve(tenant, hold, scopes, cost.cost_usd, day)
    book.settle(tenant, hold, cost.cost_usd)
    due = book.alerts_due(tenant, p.policy.budgets_for(tenant), scopes, day)
    await publish_alerts(p, book, tenant, due)
