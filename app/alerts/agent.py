"""The notifier stage: ``llm.alerts`` → ``alert_deliveries`` rows → the delivery loop.

The agent only records (one insert per alert, idempotent) and acks; delivery runs in
its own task (``frugalflow.alerts.delivery``), so no receiver can slow the agent, and the agent
shares nothing with the agents that answer requests. While Postgres is unreachable the
agent waits (nothing acked, nothing lost) and only ``llm.alerts`` waits with it.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from frugalflow.alerts.delivery import Deliverer
from frugalflow.alerts.routing import channels_for
from frugalflow.alerts.store import DeliveryStore
from frugalflow.events import Alert
from frugalflow.pipeline import Pipeline, log
from frugalflow.policy.snapshot import NEVER
from frugalflow.sink.retry import until_done
from frugalflow.sink.store import connect_store

POLICY_WAIT_S = 30.0


def register(p: Pipeline) -> None:
    settings = p.settings
    if settings.database_url is None:
        log.info("alerts: no database URL; alerts stay on llm.alerts, nothing is delivered")
        return
    wake = asyncio.Event()  # set when new deliveries are recorded on this worker

    @p.app.agent(p.topics.alerts, name="alert-notifier")
    async def record(stream: Any) -> Any:
        store = await connect_store(settings.database_url, max_size=1)
        deliveries = DeliveryStore(store.pool)
        waited: list[bool] = []
        try:
            async for event in stream.events():
                alert = await p.parse_internal(Alert, event.message)
                if alert is None:
                    continue
                await _wait_for_policies(p, waited)
                channels = channels_for(
                    alert,
                    p.policy.policy_for(alert.tenant_id).alerts,
                    settings.alert_channels,
                    settings.alert_default_channels,
                    max_age_s=settings.alert_max_age_s,
                )
                if not channels:
                    continue
                enqueue = partial(deliveries.enqueue, alert, alert.identity(), channels)
                if await until_done("alert record", enqueue):
                    wake.set()
        finally:
            await store.close()

    if not settings.alert_channels:
        # Nothing can be delivered: policies that name channels get visible failed rows.
        log.info("alerts: no FRUGALFLOW_ALERT_CHANNELS; alerts are recorded, not delivered")
        return

    @p.app.task
    async def deliver() -> None:
        store = await connect_store(settings.database_url, max_size=2)
        deliverer = Deliverer(
            DeliveryStore(store.pool),
            settings.alert_channels,
            max_attempts=settings.alert_max_attempts,
            retry_base_s=settings.alert_retry_base_s,
            retry_max_s=settings.alert_retry_max_s,
            poll_s=settings.alert_poll_s,
            wake=wake,
        )
        try:
            await deliverer.run_forever()
        finally:
            await deliverer.close()
            await store.close()


async def _wait_for_policies(p: Pipeline, waited: list[bool]) -> None:
    """A tenant's channels are in its policy: wait (bounded, once) for the first load."""
    if waited:
        return
    deadline = time.monotonic() + POLICY_WAIT_S
    while p.policy.loaded_at == NEVER and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    waited.append(True)
