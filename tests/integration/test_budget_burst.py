"""A burst far over budget: the money spent never passes the limit (issue 5).

10,000 requests from one tenant whose daily budget fits about 1,000 of them at their
worst case. Every request is answered; those past the hard stop are rejected with
``budget_hard_stop``; the spend never exceeds the limit by more than one request's worst
case (the ledger is built so that it never exceeds it at all); each alert fires once.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal

import asyncpg
import pytest

from frugalflow.events import Message
from frugalflow.policy.tokens import estimate_input_tokens, worst_case_cost
from frugalflow.reports.budgets import Budget, put_budget
from frugalflow.sink.store import CostStore
from tests.integration.harness import Deployment, request

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

BURST = 10_000
MODEL = "claude-haiku-4-5"


def _worst(content: str, max_tokens: int) -> Decimal:
    tokens = estimate_input_tokens(None, [Message(role="user", content=content)])
    return worst_case_cost(MODEL, tokens, max_tokens, mode="standard")


async def _set_budget(dsn: str, budget: Budget) -> None:
    store = CostStore(dsn)
    await store.start()  # applies the migrations (the worker may not have yet)
    try:
        await put_budget(store.pool, budget)
    finally:
        await store.close()


async def test_a_burst_ten_times_over_budget_never_overspends(deployment: Deployment) -> None:
    tenant = f"{deployment.prefix}burst"
    contents = [f"Question {n}: what is {n} plus {n}?" for n in range(BURST)]
    worst = max(_worst(c, 64) for c in contents)
    limit = (worst * 1000).quantize(Decimal("0.000001"))
    await _set_budget(
        deployment.dsn,
        Budget(
            tenant=tenant,
            service="",
            use_case="",
            daily_limit_usd=limit,
            monthly_limit_usd=None,
            alert_thresholds=[Decimal("0.5"), Decimal("0.8")],
            hard_stop_ratio=Decimal("1"),
        ),
    )
    deployment.start_worker()
    await asyncio.sleep(3)  # the policy refresh (every 2 s) has loaded the budget
    records = [
        request(f"{tenant}-{n}", tenant, model=MODEL, content=content)
        for n, content in enumerate(contents)
    ]
    await deployment.publish(records)
    responses = await deployment.read("llm.responses", until=BURST, timeout=300, settle=3)

    by_id = {r["request_id"]: r for r in responses}
    assert len(by_id) == BURST  # every request answered
    statuses = Counter((r["status"], (r.get("error") or {}).get("code")) for r in by_id.values())
    assert set(statuses) == {("ok", None), ("rejected", "budget_hard_stop")}, statuses
    spent = sum(Decimal(r["cost_usd"]) for r in by_id.values())
    assert spent <= limit + worst
    assert spent <= limit  # exact: reservations make it strict
    assert spent >= limit / 2, (spent, limit)  # the budget was actually used
    ok = statuses[("ok", None)]
    assert 0 < ok < BURST

    rows = await deployment.wait_cost_rows(f"{tenant}-%", ok, timeout=60)
    assert len(rows) == ok
    assert sum(Decimal(row["cost_usd"]) for row in rows) == spent

    # Reservations hold the worst case, so a burst stops before the real spend reaches the
    # limit: exactly the thresholds the spend did reach have alerted, each once.
    alerts = await deployment.read("llm.alerts", until=2, timeout=30, settle=3)
    mine = [a for a in alerts if a["tenant_id"] == tenant]
    warned = sorted(Decimal(a["threshold"]) for a in mine if a["kind"] == "budget_warning")
    assert warned == [t for t in (Decimal("0.5"), Decimal("0.8")) if spent >= limit * t]
    assert [a["kind"] for a in mine].count("budget_hard_stop") == 1
    rejected = [r for r in by_id.values() if r["status"] == "rejected"]
    assert "hard stop" in rejected[0]["error"]["message"]


async def test_budget_changes_take_effect_within_seconds(deployment: Deployment) -> None:
    tenant = f"{deployment.prefix}live"
    deployment.start_worker()
    await deployment.publish([request(f"{tenant}-1", tenant, model=MODEL)])
    first = await deployment.read("llm.responses", until=1)
    assert first[0]["status"] == "ok"
    await _set_budget(
        deployment.dsn,
        Budget(
            tenant=tenant,
            service="",
            use_case="",
            daily_limit_usd=Decimal("0"),
            monthly_limit_usd=None,
            alert_thresholds=[Decimal("0.8")],
            hard_stop_ratio=Decimal("1"),
        ),
    )
    await asyncio.sleep(4)
    await deployment.publish([request(f"{tenant}-2", tenant, model=MODEL)])
    answers = await deployment.read("llm.responses", until=2)
    second = next(r for r in answers if r["request_id"] == f"{tenant}-2")
    assert second["status"] == "rejected" and second["error"]["code"] == "budget_hard_stop"
    conn = await asyncpg.connect(deployment.dsn)
    try:
        await conn.execute("DELETE FROM budgets WHERE tenant_id = $1", tenant)
    finally:
        await conn.close()
    assert json.dumps(second)  # the answer is plain JSON


async def test_batch_answers_settle_their_reservations(deployment: Deployment) -> None:
    """The poller answers batches from a timer, which cannot write the ledger: its ``done``
    record carries the answers' costs and the batch ledger settles them. Every batch answer
    is settled exactly once: the budget gauge shows their summed cost, and the first
    threshold alerts once."""
    tenant = f"{deployment.prefix}batchspend"
    n = 8
    limit = (_worst("What is the capital of France?", 64) * 100).quantize(Decimal("0.000001"))
    await _set_budget(
        deployment.dsn,
        Budget(
            tenant=tenant, service="", use_case="", daily_limit_usd=limit,
            monthly_limit_usd=None, alert_thresholds=[Decimal("0.000001")],
            hard_stop_ratio=Decimal("1"),
        ),
    )  # fmt: skip
    deployment.start_worker()
    await asyncio.sleep(3)  # the policy refresh (every 2 s) has loaded the budget
    await deployment.publish(
        [request(f"{tenant}-{i}", tenant, priority="batch", model=MODEL) for i in range(n)]
    )
    responses = await deployment.read("llm.responses", until=n, timeout=120)
    assert {(r["path"], r["status"]) for r in responses} == {("batch", "ok")}
    spent = sum(Decimal(r["cost_usd"]) for r in responses)
    assert spent > 0

    alerts = await deployment.read("llm.alerts", until=1, timeout=30, settle=3)
    warnings = [a for a in alerts if a["tenant_id"] == tenant and a["kind"] == "budget_warning"]
    assert len(warnings) == 1
    assert 0 < Decimal(warnings[0]["spent_usd"]) <= spent

    gauge = f'frugalflow_budget_used_ratio{{period="daily",tenant="{tenant}"}}'
    deadline = asyncio.get_running_loop().time() + 30
    while deployment.metrics().get(gauge) != pytest.approx(float(spent / limit), rel=1e-9):
        assert asyncio.get_running_loop().time() < deadline, (deployment.metrics().get(gauge),
                                                              float(spent / limit))  # fmt: skip
        await asyncio.sleep(0.5)
