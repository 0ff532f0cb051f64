"""The budget ledger's tables and how reservations are settled (issue 5, item 1).

Intake reserves (``frugalflow.intake.policies``). Whichever stage publishes an answer
settles the request's reservation with the answer's real cost right after
(``Pipeline.publish_answer``, which calls :func:`settle_answers` through ``Pipeline.settle``):
intake for the answers it makes and the immediate calls it runs, the immediate agent, and
the batch ledger, which settles a batch's answers together when it applies the poller's
``done`` record (the poller is a timer and cannot write tables). An error or a rejection settles
at $0, which releases the reservation. A settled reservation is deleted, so an answer
published again after a crash changes nothing. Settling is when money becomes *spent*,
so this is also where the 80 % / 100 % alerts fire, once per budget, threshold and period.

No stage reads ``llm.responses`` for this any more: each answer woke a Faust stage that
only settled it. Every writer runs inside an event of a topic keyed by tenant (requests,
``llm.admitted.realtime``, ``llm.batches``), co-partitioned with these tables, so one
worker owns a tenant's ledger, and the settling itself (no ``await`` inside) never
interleaves with intake's check-then-reserve.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import partial

from frugalflow.costing.rates import ModelPrice
from frugalflow.events import Alert
from frugalflow.metrics import BUDGET_USED_RATIO, tenant_label
from frugalflow.pipeline import Pipeline, log
from frugalflow.policy.budget import AlertDue, BudgetBook, Charge, limits_of


def register(p: Pipeline) -> None:
    partitions = p.settings.partitions
    p.tables["budget_ledger"] = p.app.Table("budget-ledger", default=None, partitions=partitions)
    p.tables["rate_windows"] = p.app.Table("rate-windows", default=None, partitions=partitions)

    p.settle = partial(settle_answers, p)


async def settle_answers(p: Pipeline, charges: Sequence[Charge]) -> None:
    """Replace requests' reservations by their answers' costs; alert on what is now spent.
    Runs inside a stream's event (it writes the ledger's table). A batch's answers are
    settled together: each tenant's day is written, checked and shown once, not per answer."""
    book = BudgetBook(p.tables["budget_ledger"])
    checked: set[tuple[str, date, tuple[str, ...]]] = set()
    for tenant, held in book.settle_all(charges):
        if (tenant, held.day, held.scopes) in checked:
            continue
        checked.add((tenant, held.day, held.scopes))
        budgets = p.policy.budgets_for(tenant)
        due = book.alerts_due(tenant, budgets, held.scopes, held.day)
        await publish_alerts(p, book, tenant, due)
        for budget in budgets:  # the gauge shows the tenant-wide budget
            if budget.service or budget.use_case:
                continue
            for period, limit in limits_of(budget):
                if limit > 0:
                    spent, _ = book.period_totals(tenant, "", period, held.day)
                    BUDGET_USED_RATIO.labels(tenant=tenant_label(tenant), period=period).set(
                        float(spent / limit)
                    )


async def publish_alerts(p: Pipeline, book: BudgetBook, tenant: str, due: list[AlertDue]) -> None:
    """Send each alert that was not sent yet for its period (remembered in the ledger)."""
    for alert in due:
        if not book.mark_alerted(tenant, alert.label, alert.alert_id):
            continue
        await p.publish_alert(
            Alert(
                tenant_id=tenant,
                kind=alert.kind,
                period=alert.period,
                spent_usd=alert.spent,
                limit_usd=alert.limit,
                service=alert.budget.service or None,
                use_case=alert.budget.use_case or None,
                threshold=alert.threshold,
            )
        )
        log.warning("alert %s for tenant %s (%s)", alert.kind, tenant, alert.label)


DEPRECATION_LABEL = "model_deprecated"


async def warn_deprecated(p: Pipeline, book: BudgetBook, tenant: str, price: ModelPrice) -> None:
    """One ``model_deprecated`` alert per tenant and model (remembered in the ledger)."""
    if not book.mark_alerted(tenant, DEPRECATION_LABEL, price.model):
        return
    retires = f"retires on {price.retires}" if price.retires else "has no retirement date yet"
    instead = f"; move to {price.successor!r}" if price.successor else ""
    await p.publish_alert(
        Alert(
            tenant_id=tenant,
            kind="model_deprecated",
            period="",
            spent_usd=Decimal(0),
            limit_usd=Decimal(0),
            detail=f"model {price.model!r} is deprecated by {price.provider} and {retires}"
            f"{instead}",
        )
    )
    log.warning("alert model_deprecated for tenant %s (%s)", tenant, price.model)
