"""Alert delivery against real receivers (aiohttp, aiosmtpd) and a real Postgres.

Covers the channel wire formats (signed webhook, Slack, PagerDuty Events v2, SMTP), how
failures are classified, and the durable delivery record: one delivery per alert and
channel across repeated records and restarts, retries with backoff, undeliverable
alerts recorded with their reason, secrets in no reason.
"""

from __future__ import annotations

import json
import logging
import uuid
from decimal import Decimal

import asyncpg
import httpx
import pytest

from frugalflow.alerts.channels import parse_channels
from frugalflow.alerts.delivery import Deliverer
from frugalflow.alerts.errors import DeliveryError
from frugalflow.alerts.signing import HEADER, verify
from frugalflow.alerts.smtp import send_email
from frugalflow.alerts.store import DeliveryStore
from frugalflow.alerts.webhooks import send_pagerduty, send_slack, send_webhook
from frugalflow.events import Alert
from frugalflow.settings import load_settings
from frugalflow.sink.store import CostStore
from tests.alerts.receivers import HttpReceiver, SmtpReceiver, channel_config

pytestmark = [pytest.mark.postgres]

SECRET = "whsec_test_0123456789"


def budget_alert(tenant: str, kind: str = "budget_exceeded") -> Alert:
    return Alert(
        tenant_id=tenant, kind=kind, period="2026-12", spent_usd=Decimal("101.5"),
        limit_usd=Decimal("100"), threshold=Decimal("1.0"),
    )  # fmt: skip


async def test_channels_speak_their_wire_formats(
    http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver
) -> None:
    channels = parse_channels(channel_config(http_receiver, smtp_receiver, SECRET))
    alert = budget_alert(f"acme-{uuid.uuid4().hex[:6]}")
    alert_id = alert.identity()
    async with httpx.AsyncClient() as http:
        await send_webhook(http, channels["ops-hook"], alert, alert_id)
        await send_slack(http, channels["slack"], alert, alert_id)
        await send_pagerduty(http, channels["pager"], alert, alert_id)
    await send_email(channels["mail"], alert, alert_id)

    hook = http_receiver.at("/hook")[-1]
    assert verify(SECRET, hook.body, hook.headers[HEADER])
    assert not verify("another-secret", hook.body, hook.headers[HEADER])
    assert not verify(SECRET, hook.body + b" ", hook.headers[HEADER])  # body tampered
    body = json.loads(hook.body)
    assert body["alert_id"] == alert_id == hook.headers["FrugalFlow-Alert-Id"]
    assert body["kind"] == "budget_exceeded" and body["spent_usd"] == "101.5"
    assert "$101.50 of $100.00" in body["summary"]

    slack = json.loads(http_receiver.at("/services/T000/B000/XXXX")[-1].body)
    assert set(slack) == {"text"} and alert.tenant_id in slack["text"]

    event = json.loads(http_receiver.at("/v2/enqueue")[-1].body)
    assert event["event_action"] == "trigger" and event["dedup_key"] == alert_id
    assert event["routing_key"] == "R0UT1NGKEY0000000000000000000000"
    assert event["payload"]["severity"] == "error"
    assert event["payload"]["group"] == alert.tenant_id

    envelope, mail = (await smtp_receiver.wait_for(1))[-1]
    assert envelope.rcpt_tos == ["oncall@example.test"]
    assert mail["X-FrugalFlow-Alert-Id"] == alert_id
    assert "budget_exceeded" in mail["Subject"]

    # Text from tenants and providers cannot break a mail header or a Slack message.
    odd = alert.model_copy(update={"detail": "circuit <!channel> opened\r\nBcc: x@y.z"})
    async with httpx.AsyncClient() as http:
        await send_slack(http, channels["slack"], odd, "odd-1")
    await send_email(channels["mail"], odd, "odd-1")
    text = json.loads(http_receiver.at("/services/T000/B000/XXXX")[-1].body)["text"]
    assert "&lt;!channel&gt;" in text and "<" not in text
    _, odd_mail = smtp_receiver.messages[-1]  # accepted before send_email returned
    assert odd_mail["Bcc"] is None  # the injected line stayed inside the (folded) subject
    assert "opened Bcc: x@y.z" in " ".join(str(odd_mail["Subject"]).split())


async def test_failures_are_classified_and_name_no_secret(http_receiver: HttpReceiver) -> None:
    channels = parse_channels(
        {"gone": {"type": "slack", "url": f"{http_receiver.url}/gone/SECRETTOKEN"},
         "down": {"type": "webhook", "url": "http://127.0.0.1:9/hook?token=SECRETTOKEN",
                  "secret": "SECRETTOKEN", "timeout_s": 2}}
    )  # fmt: skip
    http_receiver.default["/gone/SECRETTOKEN"] = (404, "no_service")
    http_receiver.script["/gone/SECRETTOKEN"] = [503]
    alert = budget_alert("acme")
    async with httpx.AsyncClient() as http:
        with pytest.raises(DeliveryError) as busy:
            await send_slack(http, channels["gone"], alert, "a1")
        with pytest.raises(DeliveryError) as gone:
            await send_slack(http, channels["gone"], alert, "a1")
        with pytest.raises(DeliveryError) as down:
            await send_webhook(http, channels["down"], alert, "a1")
    assert (busy.value.code, busy.value.retryable) == ("http_503", True)
    assert (gone.value.reason, gone.value.retryable) == ("http_404: no_service", False)
    assert (down.value.code, down.value.retryable) == ("connection_error", True)
    for error in (busy.value, gone.value, down.value):
        assert "SECRETTOKEN" not in error.reason
    assert "SECRETTOKEN" not in repr(channels)


def test_channel_settings_are_validated_without_echoing_secrets() -> None:
    with pytest.raises(SystemExit) as bad:
        load_settings(alert_channels='{"ops": {"type": "webhook", "url": "ftp://SECRET"}}')
    assert "ops" in str(bad.value) and "url" in str(bad.value)
    assert "SECRET" not in str(bad.value)
    with pytest.raises(SystemExit) as missing:
        load_settings(alert_channels="{}", alert_default_channels="ops")
    assert "'ops' is not in FRUGALFLOW_ALERT_CHANNELS" in str(missing.value)
    settings = load_settings(
        alert_channels='{"ops": {"type": "webhook", "url": "https://h/x?token=SECRET"}}',
        alert_default_channels="ops",
    )
    assert settings.alert_default_channels == ("ops",)
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.alert_channels)


async def test_each_alert_is_delivered_once_per_channel_with_retries(
    alerts_dsn: str,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    config = channel_config(http_receiver, smtp_receiver, SECRET)
    config["revoked"] = {"type": "slack", "url": f"{http_receiver.url}/revoked"}
    channels = parse_channels(config)
    http_receiver.default["/revoked"] = (403, "invalid_token")
    http_receiver.script["/hook"] = [500, 500]  # two failures, then accepted
    store = CostStore(alerts_dsn)
    await store.start()  # applies the migrations, alert_deliveries included
    try:
        deliveries = DeliveryStore(store.pool)
        alert = budget_alert(f"initech-{uuid.uuid4().hex[:6]}")
        alert_id = alert.identity()
        wanted = {"ops-hook": None, "mail": None, "revoked": None,
                  "nowhere": "unknown_channel: not in FRUGALFLOW_ALERT_CHANNELS"}  # fmt: skip
        assert sorted(await deliveries.enqueue(alert, alert_id, wanted)) == sorted(wanted)
        # The same alert again (a redelivered record, another worker): nothing new.
        assert await deliveries.enqueue(alert, alert_id, wanted) == []
        assert budget_alert(alert.tenant_id).identity() == alert_id

        hooks_before, mails_before = len(http_receiver.at("/hook")), len(smtp_receiver.messages)
        deliverer = Deliverer(deliveries, channels, max_attempts=5, retry_base_s=0.05,
                              retry_max_s=0.1, poll_s=0.05)  # fmt: skip
        try:
            for _ in range(30):
                await deliverer.run_once()
                states = await _states(store.pool, alert_id)
                if states["ops-hook"][0] == "delivered":
                    break
                await _sleep(0.1)
        finally:
            await deliverer.close()
        states = await _states(store.pool, alert_id)
        assert states["ops-hook"] == ("delivered", 3, None)
        assert states["mail"] == ("delivered", 1, None)
        assert states["revoked"] == ("failed", 1, "http_403: invalid_token")
        assert states["nowhere"][0] == "failed" and states["nowhere"][2].startswith(
            "unknown_channel"
        )
        assert len(http_receiver.at("/hook")) - hooks_before == 3
        assert len(smtp_receiver.messages) - mails_before == 1

        # A restarted worker (new deliverer, same database) delivers nothing again.
        again = Deliverer(deliveries, channels, max_attempts=5, retry_base_s=0.05,
                          retry_max_s=0.1, poll_s=0.05)  # fmt: skip
        try:
            assert await again.run_once() == 0
        finally:
            await again.close()
        assert await deliveries.enqueue(alert, alert_id, wanted) == []
        assert len(http_receiver.at("/hook")) - hooks_before == 3
        listed = await deliveries.list(tenant=alert.tenant_id, state=None, kind=None, limit=10)
        assert {d.channel for d in listed} == set(wanted)
        assert all("XXXX" not in (d.last_error or "") for d in listed)
        # httpx logs each request's URL at INFO; a channel's URL (a secret) is replaced.
        assert "/revoked" not in caplog.text and "/hook" not in caplog.text
        assert "<alert channel revoked>" in caplog.text
    finally:
        await store.close()


async def test_a_receiver_that_never_accepts_ends_failed_after_max_attempts(
    alerts_dsn: str, http_receiver: HttpReceiver
) -> None:
    channels = parse_channels({"flaky": {"type": "webhook", "url": f"{http_receiver.url}/down"}})
    http_receiver.default["/down"] = (502, "bad gateway")
    store = CostStore(alerts_dsn)
    await store.start()
    try:
        deliveries = DeliveryStore(store.pool)
        alert = budget_alert(f"hooli-{uuid.uuid4().hex[:6]}", kind="budget_hard_stop")
        await deliveries.enqueue(alert, alert.identity(), {"flaky": None})
        deliverer = Deliverer(deliveries, channels, max_attempts=3, retry_base_s=0.05,
                              retry_max_s=0.05, poll_s=0.05)  # fmt: skip
        try:
            for _ in range(40):
                await deliverer.run_once()
                if (await _states(store.pool, alert.identity()))["flaky"][0] != "pending":
                    break
                await _sleep(0.05)
        finally:
            await deliverer.close()
        assert (await _states(store.pool, alert.identity()))["flaky"] == (
            "failed", 3, "http_502: bad gateway",
        )  # fmt: skip
    finally:
        await store.close()


async def _states(pool: asyncpg.Pool, alert_id: str) -> dict[str, tuple[str, int, str | None]]:
    rows = await pool.fetch(
        "SELECT channel, state, attempts, last_error FROM alert_deliveries WHERE alert_id = $1",
        alert_id,
    )
    return {r["channel"]: (r["state"], r["attempts"], r["last_error"]) for r in rows}


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
