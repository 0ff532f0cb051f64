"""Which channels an alert goes to: the tenant policy's ``alerts`` section, else the
deployment default (``FRUGALFLOW_ALERT_DEFAULT_CHANNELS``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.events import Alert
from app.policy.models import AlertsPolicy


def channels_for(
    alert: Alert, policy: AlertsPolicy, configured: Mapping[str, Any], default: tuple[str, ...]
) -> dict[str, str | None]:
    """``{channel: None}`` for each channel to deliver to, ``{channel: reason}`` for one a
    policy names that this deployment does not configure (recorded as failed, visibly)."""
    if policy.kinds is not None and alert.kind not in policy.kinds:
        return {}
    names = default if policy.channels is None else tuple(policy.channels)
    return {
        name: None if name in configured else "unknown_channel: not in FRUGALFLOW_ALERT_CHANNELS"
        for name in dict.fromkeys(names)
    }
