"""Cost events for the report tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count
from typing import Any

from frugalflow.events import CostEvent, Path, Savings

_ids = count()


def event(
    tenant: str,
    *,
    occurred_at: datetime | None = None,
    path: Path = Path.IMMEDIATE,
    provider: str | None = "anthropic",
    model: str | None = "claude-sonnet-4-5",
    service: str | None = "svc",
    use_case: str | None = "chat",
    input_tokens: int = 1000,
    output_tokens: int = 100,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    cost: str = "0.0045",
    baseline: str = "0.0045",
    savings: dict[str, str] | None = None,
    success: bool = True,
    **extra: Any,
) -> CostEvent:
    n = next(_ids)
    return CostEvent(
        event_id=extra.pop("event_id", f"ev-{tenant}-{n}"),
        request_id=extra.pop("request_id", f"req-{n}"),
        tenant_id=tenant,
        service=service,
        use_case=use_case,
        provider=provider,
        model=model,
        path=path,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_read_tokens=cache_read_tokens,
        cost_usd=Decimal(cost),
        baseline_cost_usd=Decimal(baseline),
        savings_usd=Savings(**{k: Decimal(v) for k, v in (savings or {}).items()}),
        success=success,
        occurred_at=occurred_at or datetime(2026, 3, 10, 12, tzinfo=UTC),
    )
