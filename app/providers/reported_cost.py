"""The cost a provider says it billed for one answer (OpenRouter's ``usage.cost``).

OpenRouter's usage accounting adds to a completion's ``usage`` the credits it charged
(``cost``; one credit is one US dollar), whether the caller's own upstream key was used
(``is_byok``) and what the upstream provider charged (``cost_details.
upstream_inference_cost``). With the caller's own key, ``cost`` is only OpenRouter's fee,
so the figure kept is the upstream one: what our catalog prices.

The adapter puts the figure on its ``ChatResult`` (``provider_cost_usd``); the answer
and its cost event carry it beside our own cost (app/dispatch/answers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


def reported_cost(usage: Any) -> Decimal | None:
    """The USD the provider reports for a completion's ``usage``; None when it says none."""
    extra: Mapping[str, Any] = getattr(usage, "model_extra", None) or {}
    if extra.get("is_byok") is True:
        details = extra.get("cost_details")
        return _usd(details.get("upstream_inference_cost") if isinstance(details, dict) else None)
    return _usd(extra.get("cost"))


def _usd(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        # repr: the shortest decimal that is this float, as the provider wrote it in JSON
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None
