"""The budget ledger's tables and the agent that settles reservations (issue 5, item 1).

Intake reserves (``frugalflow.intake.policies``); this per-event agent reads every answer on
``llm.responses`` and settles the request's reservation with the answer's real cost —
an error or a rejection settles at $0, which releases it. A redelivered answer finds no
reservation and changes nothing. Settling is when money becomes *spent*, so this is also
where the 80 % / 100 % alerts fire, once per budget, threshold and period.

Both agents write the same tables; they are co-partitioned by tenant, so one worker
owns a tenant's ledger and its two writers never interleave inside a step.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from frugalflow.costing.rates import ModelPrice
from frugalflow.events import Alert, ResponseEvent
from frugalflow.metrics import BUDGET_USED_RATIO, tenant_label
from frugalflow.pipeline import Pipeline, log
from frugalflow.policy.budget import AlertDue, BudgetBook, limits_of


def register(p: Pipeline) -> None:
    partitions = p.settings.partitions
    p.tables["budget_ledger"] = p.app.Table("budget-ledger", default=None, partitions=partitions)
    p.tables["rate_windows"] = p.app.Table("rate-windows", default=None, partitions=partitions)

    @p.app.agent(p.topics.responses, name="budget-ledger")
    async def settle(stream: Any) -> Any:
        async for event in stream.events():
            response = await p.parse_internal(ResponseEvent, event.message)
            if response is not None:
                await settle_answer(p, response)


async def settle_answer(p: Pipeline, response: ResponseEvent) -> None:
    book = BudgetBook(p.tables["budget_ledger"])
    held = book.settle(response.tenant_id, response.request_id, response.cost_usd)
    if held is None:
        return
    budgets = p.policy.budgets_for(response.tenant_id)
    due = book.alerts_due(response.tenant_id, budgets, held.scopes, held.day)
    await publish_alerts(p, book, response.tenant_id, due)
    for budget in budgets:  # the gauge shows the tenant-wide budget
        if budget.service or budget.use_case:
            continue
        for period, limit in limits_of(budget):
            if limit > 0:
                spent, _ = book.period_totals(response.tenant_id, "", period, held.day)
                BUDGET_USED_RATIO.labels(
                    tenant=tenant_label(response.tenant_id), period=period
                ).set(float(spent / limit))


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
