"""Delivery channels as configuration: what each needs, secrets as ``SecretStr``.

Channels are configured once per deployment (``FRUGALFLOW_ALERT_CHANNELS``, a JSON
object ``{name: {type, ...}}``) and referred to *by name* from tenant policies
(``alerts.channels``), so a policy readable through the admin API never carries a
webhook URL, routing key or password. Secrets are masked in every repr and log line.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, field_validator

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


def _http_url(value: str, what: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{what}: expected an http:// or https:// URL")
    return value


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(10.0, gt=0, le=120)


class _SecretUrlChannel(_Channel):
    """A channel posting to a URL that is itself a credential (it may embed a token)."""

    url: SecretStr

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        _http_url(value.get_secret_value(), "url")
        return value


class WebhookChannel(_SecretUrlChannel):
    """A generic JSON webhook, signed with HMAC-SHA256 when ``secret`` is set."""

    type: Literal["webhook"]
    secret: SecretStr | None = None


class SlackChannel(_SecretUrlChannel):
    """A Slack (or Slack-compatible: Mattermost, Rocket.Chat) incoming webhook."""

    type: Literal["slack"]


class PagerDutyChannel(_Channel):
    """PagerDuty Events API v2 (``trigger`` events, ``dedup_key`` = the alert id)."""

    type: Literal["pagerduty"]
    routing_key: SecretStr
    url: str = PAGERDUTY_EVENTS_URL
    source: str = Field("frugalflow", min_length=1, max_length=255)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value, "url")


class EmailChannel(_Channel):
    """E-mail over SMTP: STARTTLS on 587 by default, implicit TLS with ``ssl``."""

    type: Literal["email"]
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(587, ge=1, le=65535)
    sender: str = Field(min_length=3, max_length=320)
    to: list[str] = Field(min_length=1, max_length=50)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    ssl: bool = False

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n"):
            raise ValueError("expected an e-mail address")
        return value

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n,"):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value


Channel = Annotated[
    WebhookChannel | SlackChannel | PagerDutyChannel | EmailChannel, Field(discriminator="type")
]
_CHANNELS = TypeAdapter(dict[str, Channel])


def parse_channels(value: object) -> dict[str, Any]:
    """``FRUGALFLOW_ALERT_CHANNELS`` (JSON text or a mapping) as ``{name: channel}``.

    Errors name the channel and field, never a value (values may be secrets).
    """
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("expected a JSON object {name: {type, ...}}") from None
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object {name: {type, ...}}")
    for name in value:
        if not isinstance(name, str) or not NAME.match(name):
            raise ValueError(
                f"channel name {str(name)[:64]!r}: 1-64 lowercase letters, digits, '-', '_'"
            )
    from pydantic import ValidationError

    try:
        return _CHANNELS.validate_python(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"channel {where}: {first['msg']}") from None
