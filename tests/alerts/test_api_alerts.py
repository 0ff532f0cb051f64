"""``GET /v1/alerts/deliveries``: each alert's delivery state per channel, from a real Postgres."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient, TestServer

from frugalflow.alerts.store import DeliveryStore
from frugalflow.api import create_app
from frugalflow.events import Alert
from frugalflow.sink.store import CostStore
from tests.api.helpers import api_settings, auth

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module")
async def api(alerts_dsn: str) -> AsyncIterator[tuple[TestClient[object, object], CostStore]]:
    store = CostStore(alerts_dsn)
    await store.start()
    try:
        async with TestClient(TestServer(create_app(api_settings(alerts_dsn)))) as client:
            yield client, store
    finally:
        await store.close()


async def test_alerts_show_their_delivery_state_per_channel(
    api: tuple[TestClient[object, object], CostStore],
) -> None:
    client, store = api
    deliveries = DeliveryStore(store.pool)
    tenant = f"acme-{uuid.uuid4().hex[:6]}"
    warning = Alert(tenant_id=tenant, kind="budget_warning", period="2026-12",
                    spent_usd=Decimal("80"), limit_usd=Decimal("100"))  # fmt: skip
    stop = Alert(tenant_id=tenant, kind="budget_hard_stop", period="2026-12",
                 spent_usd=Decimal("150"), limit_usd=Decimal("100"))  # fmt: skip
    await deliveries.enqueue(warning, warning.identity(), {"mail": None, "hook": None})
    await deliveries.enqueue(stop, stop.identity(), {"pager": None, "mail": None})
    await deliveries.delivered(warning.identity(), "mail")
    await deliveries.delivered(warning.identity(), "hook")
    await deliveries.failed(stop.identity(), "pager", "http_400: invalid routing key")

    response = await client.get(f"/v1/alerts/deliveries?tenant={tenant}", headers=auth())
    assert response.status == 200
    body = await response.json()
    by_kind = {a["kind"]: a for a in body["alerts"]}
    assert set(by_kind) == {"budget_warning", "budget_hard_stop"}
    assert by_kind["budget_warning"]["state"] == "delivered"
    assert {d["channel"] for d in by_kind["budget_warning"]["deliveries"]} == {"mail", "hook"}
    assert all(d["delivered_at"] for d in by_kind["budget_warning"]["deliveries"])
    failed = by_kind["budget_hard_stop"]
    assert failed["state"] == "failed" and failed["alert_id"] == stop.identity()
    by_channel = {d["channel"]: d for d in failed["deliveries"]}
    assert by_channel["pager"]["last_error"] == "http_400: invalid routing key"
    assert by_channel["mail"]["state"] == "pending" and by_channel["mail"]["next_attempt_at"]
    assert "$150.00 of $100.00" in failed["summary"]

    only_failed = await client.get(
        f"/v1/alerts/deliveries?tenant={tenant}&state=failed", headers=auth()
    )
    only = (await only_failed.json())["alerts"]
    assert [a["kind"] for a in only] == ["budget_hard_stop"]
    assert {d["channel"] for d in only[0]["deliveries"]} == {"pager", "mail"}  # all channels
    bad = await client.get("/v1/alerts/deliveries?state=lost&limit=0", headers=auth())
    assert bad.status == 400
    assert (await bad.json())["error"]["code"] == "bad_request"
    assert (await client.get("/v1/alerts/deliveries")).status == 401
