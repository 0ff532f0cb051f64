"""``frugalflow alerts test CHANNEL``: send one test alert on a configured channel now.

For operators wiring up a channel: the same sender and formats as the notifier, without
Kafka or Postgres, so a wrong URL, key or SMTP login shows up at set-up time rather
than at 3 a.m. Prints ``delivered`` or the failure's reason (never a secret).
"""

from __future__ import annotations

import sys
from decimal import Decimal

import httpx

from frugalflow.alerts.delivery import send_on
from frugalflow.alerts.errors import DeliveryError
from frugalflow.alerts.redact import RedactChannelUrls
from frugalflow.events import Alert, utcnow
from frugalflow.settings import Settings

EXIT_UNKNOWN_CHANNEL = 2


def sample_alert(tenant: str) -> Alert:
    return Alert(
        tenant_id=tenant, kind="test", period="now", spent_usd=Decimal(0),
        limit_usd=Decimal(0), detail="a test alert from 'frugalflow alerts test'",
        alert_id=f"test-{utcnow().strftime('%Y%m%dT%H%M%S')}",
    )  # fmt: skip


async def send_test(settings: Settings, channel: str, tenant: str) -> int:
    if channel not in settings.alert_channels:
        known = ", ".join(sorted(settings.alert_channels)) or "none"
        print(f"frugalflow: no channel {channel!r} in FRUGALFLOW_ALERT_CHANNELS (configured: "
              f"{known})", file=sys.stderr)  # fmt: skip
        return EXIT_UNKNOWN_CHANNEL
    alert = sample_alert(tenant)
    redact = RedactChannelUrls(settings.alert_channels)
    redact.install()
    try:
        async with httpx.AsyncClient(follow_redirects=False) as http:
            await send_on(http, settings.alert_channels[channel], alert, alert.identity())
    except DeliveryError as exc:
        print(f"{channel}: not delivered: {exc.reason}", file=sys.stderr)
        return 1
    finally:
        redact.remove()
    print(f"{channel}: delivered (alert id {alert.identity()})")
    return 0
