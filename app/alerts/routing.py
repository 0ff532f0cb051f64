"""Which channels an alert goes to: the tenant policy's ``alerts`` section, else the
deployment default (``FRUGALFLOW_ALERT_DEFAULT_CHANNELS``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from frugalflow.events import Alert
from frugalflow.policy.models import AlertsPolicy


def channels_for(
    alert: Alert,
    policy: AlertsPolicy,
    configured: Mapping[str, Any],
    default: tuple[str, ...],
    *,
    max_age_s: float,
    now: datetime | None = None,
) -> dict[str, str | None]:
    """``{channel: None}`` for each channel to deliver to, ``{channel: reason}`` for one
    that will not be tried, recorded as failed (visibly): a channel a policy names that
    this deployment does not configure, or every channel of an alert read too late to
    matter (``stale``: a first rollout over the topic's history must not page anyone)."""
    if policy.kinds is not None and alert.kind not in policy.kinds:
        return {}
    names = default if policy.channels is None else tuple(policy.channels)
    age = ((now or datetime.now(UTC)) - alert.occurred_at).total_seconds()
    stale = f"stale: {age:.0f}s old when read, over FRUGALFLOW_ALERT_MAX_AGE_S"
    return {
        name: stale if age > max_age_s else (
            None if name in configured else "unknown_channel: not in FRUGALFLOW_ALERT_CHANNELS"
        )
        for name in dict.fromkeys(names)
    }  # fmt: skip
