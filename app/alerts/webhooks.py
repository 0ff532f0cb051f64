"""The three HTTP channels: generic webhook (signed JSON), Slack incoming webhook,
PagerDuty Events API v2. Each returns on success and raises ``DeliveryError`` otherwise.

Redirects are not followed (a webhook that moved is a configuration error to fix, and
following it would send the signed body elsewhere).
"""

from __future__ import annotations

import json

import httpx

from frugalflow.alerts import render
from frugalflow.alerts.channels import PagerDutyChannel, SlackChannel, WebhookChannel
from frugalflow.alerts.errors import DeliveryError, http_status_error
from frugalflow.alerts.signing import HEADER, sign
from frugalflow.events import Alert

USER_AGENT = "FrugalFlow-Alerts/1"


async def post(
    http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], timeout_s: float
) -> httpx.Response:
    try:
        response = await http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            timeout=timeout_s,
        )
    except httpx.TimeoutException as exc:
        raise DeliveryError("timeout", type(exc).__name__, retryable=True) from None
    except httpx.HTTPError as exc:  # connection refused, DNS, TLS, protocol: never the URL
        raise DeliveryError("connection_error", type(exc).__name__, retryable=True) from None
    if not 200 <= response.status_code < 300:
        text = response.text if len(response.content) < 2048 else ""
        raise http_status_error(response.status_code, text)
    return response


async def send_webhook(
    http: httpx.AsyncClient, channel: WebhookChannel, alert: Alert, alert_id: str
) -> None:
    body = json.dumps(render.payload(alert, alert_id), separators=(",", ":")).encode()
    headers = {"FrugalFlow-Alert-Id": alert_id, "Idempotency-Key": alert_id}
    if channel.secret is not None:
        headers[HEADER] = sign(channel.secret.get_secret_value(), body)
    await post(http, channel.url.get_secret_value(), body, headers, channel.timeout_s)


async def send_slack(
    http: httpx.AsyncClient, channel: SlackChannel, alert: Alert, alert_id: str
) -> None:
    """Slack answers 200 ``ok``; 4xx texts such as ``invalid_payload``, ``no_service``
    (webhook revoked), ``channel_is_archived`` are recorded as the failure's detail."""
    text = render.slack_escape(render.summary(alert))
    body = json.dumps({"text": text}).encode()
    await post(http, channel.url.get_secret_value(), body, {}, channel.timeout_s)


async def send_pagerduty(
    http: httpx.AsyncClient, channel: PagerDutyChannel, alert: Alert, alert_id: str
) -> None:
    """A ``trigger`` event; ``dedup_key`` is the alert id, so PagerDuty itself folds a
    repeated delivery into the same incident. Success is 202 ``{"status": "success"}``."""
    event = {
        "routing_key": channel.routing_key.get_secret_value(),
        "event_action": "trigger",
        "dedup_key": alert_id,
        "payload": {
            "summary": render.summary(alert)[:1024],
            "source": channel.source,
            "severity": render.severity(alert),
            "timestamp": alert.occurred_at.isoformat(),
            "component": alert.service or "frugalflow",
            "group": alert.tenant_id,
            "class": alert.kind,
            "custom_details": render.payload(alert, alert_id),
        },
    }
    body = json.dumps(event).encode()
    await post(http, channel.url, body, {}, channel.timeout_s)
