"""An alert as people and machines read it: a one-line summary, a JSON payload."""

from __future__ import annotations

from typing import Any

from frugalflow.events import Alert

SEVERITY = {  # PagerDuty's severities; anything not listed is a warning
    "budget_hard_stop": "critical",
    "budget_exceeded": "error",
    "provider_circuit_open": "error",
    "forecast_over_budget": "warning",
    "budget_warning": "warning",
    "model_deprecated": "info",
}


def severity(alert: Alert) -> str:
    return SEVERITY.get(alert.kind, "warning")


def summary(alert: Alert) -> str:
    """E.g. ``[FrugalFlow] budget_exceeded for tenant acme (2026-12): $101.20 of $100.00``."""
    scope = "".join(
        part
        for part in (
            f" service {alert.service}" if alert.service else "",
            f" use case {alert.use_case}" if alert.use_case else "",
        )
    )
    who = "all tenants" if alert.tenant_id == "*" else f"tenant {alert.tenant_id}"
    text = f"[FrugalFlow] {alert.kind} for {who}{scope}"
    if alert.period and alert.period != "now":
        text += f" ({alert.period})"
    if alert.limit_usd > 0:
        text += f": ${alert.spent_usd:.2f} of ${alert.limit_usd:.2f}"
    if alert.detail:
        text += f" - {alert.detail}"
    return " ".join(text.split())[:1000]  # one line: safe as a mail subject


def slack_escape(text: str) -> str:
    """Slack reads ``<…>`` as links and mentions: its three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(alert: Alert, alert_id: str) -> dict[str, Any]:
    """The alert as on ``llm.alerts``, with its id and a summary (the webhook body)."""
    body: dict[str, Any] = alert.model_dump(mode="json")
    body["alert_id"] = alert_id
    body["summary"] = summary(alert)
    return body
