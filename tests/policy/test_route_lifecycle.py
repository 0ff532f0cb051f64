"""Routing by the catalog's life-cycle dates, service modes and the tenant's baseline model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from frugalflow.costing.catalog import PRICING_FILE_ENV, reload_catalog
from frugalflow.events import Message, RequestEvent
from frugalflow.intake.route import RouteRejected, choose_route
from frugalflow.policy.models import BaselinePolicy, TenantPolicy
from frugalflow.policy.store import InvalidPolicy, validate_document
from frugalflow.settings import Settings

DAY = date(2026, 12, 4)
REALTIME_ONLY = """models:
  acme-realtime:
    provider: openai
    context_window: 128000
    min_cacheable_tokens: 1024
    effective: 2026-01-01
    prices:
      standard: {input: "1.00", output: "2.00"}
"""
ALL = frozenset({"anthropic", "openai", "gemini"})


def request(**fields: object) -> RequestEvent:
    base: dict[str, object] = {
        "event_type": "NEW_RECORD", "request_id": "r1", "tenant_id": "acme",
        "messages": [Message(role="user", content="hi")], "max_tokens": 50,
    }  # fmt: skip
    return RequestEvent.model_validate({**base, **fields})


def test_a_retired_model_is_rejected_naming_its_successor() -> None:
    with pytest.raises(RouteRejected) as info:
        choose_route(request(model="claude-sonnet-4-5"), Settings(), ALL, day=DAY)
    assert info.value.code == "model_retired"
    assert info.value.message == (
        "model 'claude-sonnet-4-5' was retired by anthropic on 2026-11-30; "
        "use 'claude-sonnet-4-6' instead"
    )
    # the dated snapshot id is the same model
    with pytest.raises(RouteRejected, match="retired"):
        choose_route(request(model="claude-sonnet-4-5-20250929"), Settings(), ALL, day=DAY)


def test_a_deprecated_model_is_still_served_and_flagged() -> None:
    route = choose_route(request(model="gpt-5"), Settings(), ALL, day=DAY)
    assert (route.model, route.requested_model) == ("gpt-5", "gpt-5")
    assert route.deprecated is not None and route.deprecated.successor == "gpt-5.4"
    # the day it retires, it is rejected
    with pytest.raises(RouteRejected, match="retired by openai on 2026-12-11"):
        choose_route(request(model="gpt-5"), Settings(), ALL, day=date(2026, 12, 11))


def test_an_active_model_is_not_flagged() -> None:
    route = choose_route(request(model="claude-sonnet-4-6"), Settings(), ALL, day=DAY)
    assert route.deprecated is None


def test_the_batch_path_needs_a_model_sold_in_batch_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wants_batch = {"priority": "batch", "deadline_s": 86_400}
    batched = choose_route(request(model="gemini-3.1-pro-preview", **wants_batch), Settings(),
                           ALL, day=DAY)  # fmt: skip
    assert batched.path == "batch"
    path = tmp_path / "prices.yaml"
    path.write_text(REALTIME_ONLY)
    monkeypatch.setenv(PRICING_FILE_ENV, str(path))
    reload_catalog()
    try:
        unbatched = choose_route(request(model="acme-realtime", **wants_batch), Settings(),
                                 ALL, day=DAY)  # fmt: skip
        assert unbatched.path == "immediate"
    finally:
        monkeypatch.delenv(PRICING_FILE_ENV)
        reload_catalog()


def test_auto_is_measured_against_the_providers_large_model_by_default() -> None:
    route = choose_route(request(), Settings(), ALL, day=DAY)
    assert route.model == "claude-haiku-4-5"  # no router: the deployment's default model
    assert route.requested_model == "claude-opus-5-5"  # the cheapest routable large model
    openai = choose_route(request(provider="openai"), Settings(), ALL, day=DAY)
    assert (openai.model, openai.requested_model) == ("gpt-5.4-mini", "gpt-6-sol")


def test_the_tenant_baseline_wins_per_use_case_then_overall() -> None:
    baseline = BaselinePolicy(model="claude-sonnet-4-6", by_use_case={"legal": "gpt-5.5"})
    legal = choose_route(request(use_case="legal"), Settings(), ALL, day=DAY, baseline=baseline)
    other = choose_route(request(use_case="faq"), Settings(), ALL, day=DAY, baseline=baseline)
    assert legal.requested_model == "gpt-5.5"
    assert other.requested_model == "claude-sonnet-4-6"
    pinned = choose_route(request(model="claude-haiku-4-5"), Settings(), ALL, day=DAY,
                          baseline=baseline)  # fmt: skip
    assert pinned.requested_model == "claude-haiku-4-5"  # a named model is its own baseline


def test_a_baseline_the_catalog_no_longer_prices_is_skipped() -> None:
    gone = BaselinePolicy(model="acme-retired-finetune")
    route = choose_route(request(), Settings(), ALL, day=DAY, baseline=gone)
    assert route.requested_model == "claude-opus-5-5"


def test_a_stored_baseline_must_be_priced() -> None:
    ok = {"baseline": {"model": "claude-opus-4-8", "by_use_case": {"faq": "gpt-5.4"}}}
    assert validate_document(ok) == ok
    assert TenantPolicy.model_validate(ok).baseline.model_for("faq") == "gpt-5.4"
    with pytest.raises(InvalidPolicy) as info:
        validate_document({"baseline": {"by_use_case": {"faq": "gpt-imaginary"}}})
    assert "gpt-imaginary" in str(
        info.value.errors if hasattr(info.value, "errors") else info.value
    )
