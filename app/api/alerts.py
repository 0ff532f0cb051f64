"""``GET /v1/alerts/deliveries``: recent alerts and, per channel, where their delivery stands.

Read from ``alert_deliveries`` (app/alerts/store.py): one entry per alert, newest first,
with each channel's ``state`` (``pending`` / ``delivered`` / ``failed``), attempts, the
last failure's reason (a stable code and a short detail, never a secret) and when the
next attempt is due. The alert's own ``state`` sums them up: ``failed`` when any channel
failed, ``pending`` while any is pending, else ``delivered``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from frugalflow.alerts.render import summary
from frugalflow.alerts.store import Delivery, DeliveryStore
from frugalflow.api.routing import Operation, json, query, state
from frugalflow.events import Alert
from frugalflow.experiments.models import Name

State = Literal["pending", "delivered", "failed"]


class AlertQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant: Name | None = None
    state: State | None = Field(
        None, description="only alerts with a channel in this state (with all their channels)"
    )
    kind: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    limit: int = Field(100, ge=1, le=1000, description="most alerts returned")


class ChannelDelivery(BaseModel):
    channel: str
    state: State
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class AlertDelivery(BaseModel):
    alert_id: str
    tenant_id: str
    kind: str
    summary: str
    state: State
    created_at: datetime
    alert: dict[str, Any]
    deliveries: list[ChannelDelivery]


class AlertDeliveryList(BaseModel):
    alerts: list[AlertDelivery]


def group(rows: list[Delivery], limit: int) -> list[AlertDelivery]:
    out: dict[str, AlertDelivery] = {}
    for row in rows:
        entry = out.get(row.alert_id)
        if entry is None:
            if len(out) == limit:
                continue
            entry = out[row.alert_id] = AlertDelivery(
                alert_id=row.alert_id, tenant_id=row.tenant_id, kind=row.kind,
                summary=summary(Alert.model_validate(row.alert)), state="delivered",
                created_at=row.created_at, alert=row.alert, deliveries=[],
            )  # fmt: skip
        delivery = ChannelDelivery.model_validate(row, from_attributes=True)
        entry.deliveries.append(delivery)
    for entry in out.values():
        states = {d.state for d in entry.deliveries}
        entry.state = "failed" if "failed" in states else (
            "pending" if "pending" in states else "delivered"
        )  # fmt: skip
    return list(out.values())


async def list_alerts(request: web.Request) -> web.Response:
    q = query(request, AlertQuery)
    store = DeliveryStore(await state(request).pool())
    # Every channel row of up to ``limit`` alerts: a few channels per alert at most.
    rows = await store.list(tenant=q.tenant, state=q.state, kind=q.kind, limit=q.limit * 8)
    return json(AlertDeliveryList(alerts=group(rows, q.limit)))


OPERATIONS = [
    Operation("GET", "/v1/alerts/deliveries", list_alerts,
              "Recent alerts and their delivery per channel",
              "alerts", "listAlertDeliveries", query=AlertQuery, response=AlertDeliveryList,
              errors=(400,)),
]  # fmt: skip
