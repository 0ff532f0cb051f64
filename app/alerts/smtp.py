"""The e-mail channel: one message per alert over SMTP (standard library ``smtplib``,
run in a thread so the event loop never waits on a mail server).

Temporary failures (connection refused or lost, timeouts, 4xx replies) are retried;
permanent ones (authentication refused, every recipient refused, 5xx) are not.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from frugalflow.alerts import render
from frugalflow.alerts.channels import EmailChannel
from frugalflow.alerts.errors import DeliveryError
from frugalflow.events import Alert


def message(channel: EmailChannel, alert: Alert, alert_id: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.to)
    mail["Subject"] = render.summary(alert)[:200]
    mail["Date"] = format_datetime(alert.occurred_at)
    mail["Message-ID"] = make_msgid(idstring=alert_id, domain="frugalflow")
    mail["X-FrugalFlow-Alert-Id"] = alert_id
    lines = [render.summary(alert), ""]
    lines += [f"{key}: {value}" for key, value in render.payload(alert, alert_id).items()
              if value is not None and key != "summary"]  # fmt: skip
    mail.set_content("\n".join(lines) + "\n")
    return mail


def _send_blocking(channel: EmailChannel, mail: EmailMessage) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if channel.ssl:
        smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout_s,
                                context=context)  # fmt: skip
    else:
        smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_s)
    with smtp:
        smtp.ehlo()
        if channel.starttls and not channel.ssl:
            smtp.starttls(context=context)
            smtp.ehlo()
        if channel.username and channel.password is not None:
            smtp.login(channel.username, channel.password.get_secret_value())
        smtp.send_message(mail)


async def send_email(channel: EmailChannel, alert: Alert, alert_id: str) -> None:
    mail = message(channel, alert, alert_id)
    try:
        await asyncio.to_thread(_send_blocking, channel, mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"smtp_{exc.smtp_code}", "authentication refused",
                            retryable=False) from None  # fmt: skip
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise DeliveryError(
            "smtp_recipients_refused",
            f"codes {codes}",
            retryable=all(400 <= c < 500 for c in codes),
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"smtp_{exc.smtp_code}", _text(exc.smtp_error),
                            retryable=400 <= exc.smtp_code < 500) from None  # fmt: skip
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError("smtp_not_supported", "the server lacks STARTTLS or AUTH",
                            retryable=False) from None  # fmt: skip
    except (smtplib.SMTPException, OSError) as exc:  # refused, lost, timeout, TLS
        raise DeliveryError("connection_error", type(exc).__name__, retryable=True) from None


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
