"""The activity tables (alerts, rejections, batches) on a real Postgres: the sink's writes
are idempotent and keep the latest batch state, and the report queries read them back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from frugalflow.alerts.store import DeliveryStore
from frugalflow.events import Admitted, Alert, BatchRecord, ErrorOut, ResponseEvent, Status
from frugalflow.events import Path as AnswerPath
from frugalflow.reports import activity
from frugalflow.sink.activity import is_rejection
from frugalflow.sink.activity_store import (
    BatchSlice,
    insert_alerts,
    insert_rejections,
    upsert_batches,
)
from frugalflow.sink.store import CostStore

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DAY = date(2026, 12, 3)


def admitted(rid: str, tenant: str) -> Admitted:
    return Admitted.model_validate({
        "request": {"event_type": "NEW_RECORD", "request_id": rid, "tenant_id": tenant,
                    "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
        "path": "batch", "provider": "openai", "model": "gpt-4o-mini",
        "requested_model": "gpt-4o-mini", "admitted_at": T0,
    })  # fmt: skip


def rejected(rid: str, tenant: str, code: str) -> ResponseEvent:
    error = ErrorOut(code=code, message=f"{code}!")
    return ResponseEvent(
        request_id=rid, tenant_id=tenant, status=Status.REJECTED, path=AnswerPath.NONE, error=error
    )


async def test_alerts_are_stored_once_and_read_newest_first(store: CostStore, tenant: str) -> None:
    alerts = [
        Alert(tenant_id=tenant, kind="budget_warning", period="daily", spent_usd=Decimal("0.8"),
              limit_usd=Decimal("1"), threshold=Decimal("0.8"), occurred_at=T0),
        Alert(tenant_id=tenant, kind="budget_exceeded", period="daily", spent_usd=Decimal("1.1"),
              limit_usd=Decimal("1"), service="search", occurred_at=T0 + timedelta(minutes=5)),
    ]  # fmt: skip
    await insert_alerts(store.pool, alerts)
    await insert_alerts(store.pool, alerts)  # redelivered
    found = await activity.alerts(store.pool, DAY, DAY, tenant)
    assert [(a.kind, a.service) for a in found] == [("budget_exceeded", "search"),
                                                    ("budget_warning", None)]  # fmt: skip
    assert found[1].threshold == Decimal("0.8") and found[0].spent_usd == Decimal("1.1")
    assert await activity.alerts(store.pool, DAY + timedelta(days=1), DAY + timedelta(days=1),
                                 tenant) == []  # fmt: skip
    assert len(await activity.alerts(store.pool, DAY, DAY, tenant, limit=1)) == 1
    assert [a.deliveries for a in found] == [[], []]  # no channel named


async def test_alerts_show_their_delivery_per_channel(store: CostStore, tenant: str) -> None:
    alert = Alert(tenant_id=tenant, kind="budget_exceeded", period="daily",
                  spent_usd=Decimal("1.5"), limit_usd=Decimal("1"), occurred_at=T0)  # fmt: skip
    await insert_alerts(store.pool, [alert])
    deliveries = DeliveryStore(store.pool)
    await deliveries.enqueue(alert, alert.identity(), {"ops-slack": None, "pager": None})
    await deliveries.delivered(alert.identity(), "ops-slack")
    await deliveries.failed(alert.identity(), "pager", "http_403")
    [found] = await activity.alerts(store.pool, DAY, DAY, tenant)
    assert found.alert_id == alert.identity()
    assert [(d.channel, d.state, d.last_error) for d in found.deliveries] == [
        ("ops-slack", "delivered", None), ("pager", "failed", "http_403")
    ]  # fmt: skip


async def test_rejections_count_by_code(store: CostStore, tenant: str) -> None:
    answers = [rejected("a", tenant, "rate_limited_requests"),
               rejected("b", tenant, "rate_limited_requests"),
               rejected("c", tenant, "budget_hard_stop")]  # fmt: skip
    await insert_rejections(store.pool, answers)
    await insert_rejections(store.pool, answers[:1])  # redelivered
    today = datetime.now(UTC).date()
    found = await activity.rejections(store.pool, today, today, tenant)
    assert found.total == 3
    assert [(c.code, c.count) for c in found.by_code] == [("rate_limited_requests", 2),
                                                          ("budget_hard_stop", 1)]  # fmt: skip
    assert {r.request_id for r in found.recent} == {"a", "b", "c"}
    assert {r.message for r in found.recent} >= {"budget_hard_stop!"}


def test_the_prefilter_keeps_every_rejection() -> None:
    assert is_rejection(rejected("a", "t", "x").model_dump_json().encode())
    ok = ResponseEvent(request_id="r", tenant_id="t", status=Status.OK, path=AnswerPath.IMMEDIATE)
    assert not is_rejection(ok.model_dump_json().encode())
    assert not is_rejection(None)


async def test_a_finished_batch_keeps_its_size_and_an_older_record_never_wins(
    store: CostStore, tenant: str
) -> None:
    key = f"b-{tenant}"
    submitted = BatchRecord(batch_key=key, partition=1, state="submitted", provider="openai",
                            provider_batch_id="batch_1", submitted_at=T0, updated_at=T0,
                            requests=[admitted("r1", tenant), admitted("r2", tenant)])  # fmt: skip
    done = submitted.model_copy(update={"state": "done", "requests": [],
                                        "updated_at": T0 + timedelta(minutes=3)})  # fmt: skip
    # As the sink reads them: the records' JSON on llm.batches, as slices.
    submitted, done = (
        BatchSlice.model_validate_json(r.model_dump_json()) for r in (submitted, done)
    )
    await upsert_batches(store.pool, [submitted])
    pending = await activity.batches(store.pool, "pending", tenant)
    assert [(b.state, b.requests, b.tenants) for b in pending] == [("submitted", 2, [tenant])]
    assert pending[0].age_s >= (datetime.now(UTC) - T0).total_seconds() - 5
    await upsert_batches(store.pool, [done])
    await upsert_batches(store.pool, [submitted])  # an older record redelivered: ignored
    assert await activity.batches(store.pool, "pending", tenant) == []
    (row,) = await activity.batches(store.pool, "done", tenant)
    assert (row.state, row.requests, row.provider_batch_id) == ("done", 2, "batch_1")
    assert await activity.batches(store.pool, "all", "someone-else") == []
