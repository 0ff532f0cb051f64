"""The delivery loop: claim due deliveries, send each on its channel, record the outcome.

Runs as a task of its own on every worker, apart from the agents: a slow or dead
receiver delays only other alerts (each attempt is bounded by its channel's timeout),
never answers or cost events. Attempts of one claim run concurrently. A failed attempt
is retried with capped exponential backoff and jitter until ``alert_max_attempts``; a
permanent failure (a 4xx, an authentication refusal) is recorded at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from typing import Any

import httpx

from frugalflow.alerts.channels import EmailChannel, PagerDutyChannel, SlackChannel, WebhookChannel
from frugalflow.alerts.errors import DeliveryError
from frugalflow.alerts.redact import RedactChannelUrls
from frugalflow.alerts.smtp import send_email
from frugalflow.alerts.store import Claimed, DeliveryStore
from frugalflow.alerts.webhooks import send_pagerduty, send_slack, send_webhook
from frugalflow.events import Alert

log = logging.getLogger("frugalflow.alerts")

CLAIM_LIMIT = 32


def backoff_s(attempts: int, base_s: float, max_s: float) -> float:
    """Delay before attempt ``attempts + 1``: base x 2^(attempts-1), capped, ±20 % jitter."""
    delay = min(max_s, base_s * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)


async def send_on(http: httpx.AsyncClient, channel: Any, alert: Alert, alert_id: str) -> None:
    """One attempt on ``channel``; ``DeliveryError`` when it fails."""
    if isinstance(channel, WebhookChannel):
        await send_webhook(http, channel, alert, alert_id)
    elif isinstance(channel, SlackChannel):
        await send_slack(http, channel, alert, alert_id)
    elif isinstance(channel, PagerDutyChannel):
        await send_pagerduty(http, channel, alert, alert_id)
    elif isinstance(channel, EmailChannel):
        await send_email(channel, alert, alert_id)
    else:
        raise DeliveryError("unknown_channel_type", type(channel).__name__, retryable=False)


class Deliverer:
    def __init__(
        self,
        store: DeliveryStore,
        channels: Mapping[str, Any],
        *,
        max_attempts: int,
        retry_base_s: float,
        retry_max_s: float,
        poll_s: float,
        wake: asyncio.Event | None = None,
    ) -> None:
        self.store, self.channels = store, channels
        self.max_attempts, self.retry_base_s, self.retry_max_s = (
            max_attempts, retry_base_s, retry_max_s,
        )  # fmt: skip
        self.poll_s = poll_s
        self.wake = wake or asyncio.Event()  # set: new deliveries are due now
        self._http = httpx.AsyncClient(follow_redirects=False)
        self._redact = RedactChannelUrls(channels)
        self._redact.install()
        timeouts = [c.timeout_s for c in channels.values()] or [10.0]
        self.lease_s = max(timeouts) * 2 + 30  # an attempt never outlives its claim

    async def close(self) -> None:
        await self._http.aclose()
        self._redact.remove()

    async def run_forever(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Postgres away: try again on the next round
                log.warning("alert delivery: %s; retrying", type(exc).__name__)
                done = 0
            if done < CLAIM_LIMIT:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll_s)

    async def run_once(self) -> int:
        claimed = await self.store.claim(CLAIM_LIMIT, self.lease_s)
        await asyncio.gather(*(self._attempt(c) for c in claimed))
        return len(claimed)

    async def _attempt(self, claim: Claimed) -> None:
        channel = self.channels.get(claim.channel)
        try:
            if channel is None:
                raise DeliveryError("unknown_channel", "removed from the configuration",
                                    retryable=False)  # fmt: skip
            await send_on(self._http, channel, claim.alert, claim.alert_id)
        except DeliveryError as exc:
            await self._failed(claim, exc)
            return
        except Exception as exc:  # a bug in a sender must not stop the loop
            await self._failed(claim, DeliveryError("internal_error", type(exc).__name__,
                                                    retryable=True))  # fmt: skip
            return
        await self.store.delivered(claim.alert_id, claim.channel)
        log.info("alert %s (%s) delivered to %s", claim.alert_id, claim.alert.kind,
                 claim.channel)  # fmt: skip

    async def _failed(self, claim: Claimed, exc: DeliveryError) -> None:
        if exc.retryable and claim.attempts < self.max_attempts:
            delay = backoff_s(claim.attempts, self.retry_base_s, self.retry_max_s)
            await self.store.retry_later(claim.alert_id, claim.channel, exc.reason, delay)
            log.warning("alert %s to %s: attempt %d failed (%s); next in %.1fs",
                        claim.alert_id, claim.channel, claim.attempts, exc.code, delay)  # fmt: skip
            return
        await self.store.failed(claim.alert_id, claim.channel, exc.reason)
        log.error("alert %s to %s undeliverable after %d attempt(s): %s", claim.alert_id,
                  claim.channel, claim.attempts, exc.code)  # fmt: skip
