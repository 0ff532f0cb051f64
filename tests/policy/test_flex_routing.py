"""The flex path: which requests take it, and how the flex tier is tried before standard."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from frugalflow.costing.rates import Mode
from frugalflow.dispatch.answers import from_result
from frugalflow.dispatch.flex import flex_budget_s, try_flex
from frugalflow.dispatch.requests import deadline_allows_immediate
from frugalflow.events import Admitted, Message, Path, RequestEvent, utcnow
from frugalflow.intake.route import choose_route
from frugalflow.providers.base import ChatResult, Usage
from frugalflow.settings import Settings

ALL = frozenset({"anthropic", "openai", "gemini"})
FLEX = frozenset({"openai"})


def request(**fields: object) -> RequestEvent:
    base: dict[str, object] = {
        "event_type": "NEW_RECORD", "request_id": "r1", "tenant_id": "acme",
        "messages": [Message(role="user", content="hi")], "max_tokens": 50,
    }  # fmt: skip
    return RequestEvent.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        # minutes, not hours: flex on a model and provider that sell it
        ({"model": "gpt-5.4", "priority": "batch", "deadline_s": 600}, "flex"),
        # hours: the Batch API, cheaper still and never refused
        ({"model": "gpt-5.4", "priority": "batch", "deadline_s": 7200}, "batch"),
        # too short for flex's slow answers
        ({"model": "gpt-5.4", "priority": "batch", "deadline_s": 60}, "immediate"),
        # the caller asked for an immediate answer
        ({"model": "gpt-5.4", "deadline_s": 600}, "immediate"),
        # Anthropic sells no flex tier
        ({"model": "claude-sonnet-4-6", "priority": "batch", "deadline_s": 600}, "immediate"),
        # gpt-4o has no flex price in the catalog
        ({"model": "gpt-4o", "priority": "batch", "deadline_s": 600}, "immediate"),
    ],
)
def test_which_requests_take_the_flex_path(fields: dict[str, object], path: str) -> None:
    route = choose_route(request(**fields), Settings(), ALL, flex_capable=FLEX)
    assert route.path == path


def test_gemini_models_take_the_flex_tier_too() -> None:
    patient = request(model="gemini-3.1-pro-preview", priority="batch", deadline_s=600)
    both = frozenset({"openai", "gemini"})
    assert choose_route(patient, Settings(), ALL, flex_capable=both).path == "flex"


def test_a_degraded_budget_sends_patient_immediate_requests_to_flex() -> None:
    patient = request(model="gpt-5.4", deadline_s=900)
    assert choose_route(patient, Settings(), ALL, flex_capable=FLEX, degrade=True).path == "flex"
    assert choose_route(patient, Settings(), ALL, flex_capable=FLEX).path == "immediate"


def test_the_thresholds_are_settings() -> None:
    settings = Settings(flex_min_deadline_s=1200)
    route = choose_route(
        request(model="gpt-5.4", priority="batch", deadline_s=600), settings, ALL,
        flex_capable=FLEX,
    )  # fmt: skip
    assert route.path == "immediate"


NOW = utcnow()


def admitted(deadline_s: int | None = 600, age_s: float = 0) -> Admitted:
    now = NOW
    return Admitted(
        request=request(model="gpt-5.4", priority="batch", deadline_s=deadline_s,
                        created_at=now - timedelta(seconds=age_s)),
        path="flex", provider="openai", model="gpt-5.4", requested_model="gpt-5.4",
        admitted_at=now,
    )  # fmt: skip


def test_the_flex_budget_keeps_time_for_a_standard_call() -> None:
    assert flex_budget_s(admitted(None), NOW, 45, 75) == 45
    assert flex_budget_s(admitted(600), NOW, 45, 75) == 45
    assert flex_budget_s(admitted(100), NOW, 45, 75) == 25  # 100 s - 75 s for standard
    assert flex_budget_s(admitted(100, age_s=10), NOW, 45, 75) == 15
    assert flex_budget_s(admitted(100, age_s=90), NOW, 45, 75) == 0


def ok(tier: Mode = "flex") -> ChatResult:
    usage = Usage(input_tokens=10_000, output_tokens=1_000)
    return ChatResult(custom_id="r1", ok=True, model="gpt-5.4", content="a", usage=usage,
                      service_tier=tier)  # fmt: skip


def refused(code: str = "provider_rate_limited") -> ChatResult:
    return ChatResult(custom_id="r1", ok=False, model="gpt-5.4", error_code=code,
                      retryable=True)  # fmt: skip


async def test_flex_is_retried_while_it_refuses_then_answers() -> None:
    results = [refused(), refused("provider_overloaded"), ok()]
    tiers: list[Mode | None] = []

    async def call(a: Admitted, tier: Mode | None, timeout_s: float) -> ChatResult:
        tiers.append(tier)
        assert timeout_s > 0
        return results.pop(0)

    outcome = await try_flex(admitted(), call, budget_s=10)
    assert outcome.result is not None and outcome.result.ok
    assert outcome.attempts == 3 and tiers == ["flex", "flex", "flex"]
    # the answer bills at flex prices and shows on the flex lever
    answer = from_result(admitted(), outcome.result, Path.FLEX)
    assert answer.response.path == "flex"
    assert answer.response.cost_usd == Decimal("0.02")  # $1.25 / $7.50 per million
    assert answer.cost is not None and answer.cost.savings_usd.flex == Decimal("0.02")


async def test_flex_gives_up_for_the_standard_tier_when_time_runs_out() -> None:
    calls = 0

    async def call(a: Admitted, tier: Mode | None, timeout_s: float) -> ChatResult:
        nonlocal calls
        calls += 1
        return refused()

    outcome = await try_flex(admitted(), call, budget_s=1.2)
    assert outcome.result is None and calls == outcome.attempts >= 2
    assert outcome.why_standard == (
        f"flex tier unavailable (provider_rate_limited x{calls}): served on the standard tier"
    )


async def test_a_bad_request_is_not_retried_on_flex() -> None:
    async def call(a: Admitted, tier: Mode | None, timeout_s: float) -> ChatResult:
        return refused("provider_bad_request")

    outcome = await try_flex(admitted(), call, budget_s=10)
    assert outcome.result is None and outcome.attempts == 1


async def test_a_standard_answer_to_a_flex_request_bills_standard() -> None:
    answer = from_result(admitted(), ok("standard"), Path.IMMEDIATE)
    assert answer.response.cost_usd == Decimal("0.04")  # $2.50 / $15
    assert answer.cost is not None and answer.cost.savings_usd.flex == 0


async def test_a_tier_the_catalog_does_not_price_is_costed_standard_not_lost() -> None:
    # claude-sonnet-4-6 has no priority prices: a priority-billed answer is still answered.
    claude = admitted().model_copy(update={"model": "claude-sonnet-4-6", "provider": "anthropic",
                                           "requested_model": "claude-sonnet-4-6"})  # fmt: skip
    answer = from_result(claude, ok("priority"), Path.IMMEDIATE)
    assert answer.response.status == "ok"
    assert answer.response.cost_usd == Decimal("0.045")  # $3 / $15: standard


def test_a_failed_batch_request_goes_immediate_only_while_its_deadline_allows() -> None:
    assert deadline_allows_immediate(admitted(None), NOW, 30)
    assert deadline_allows_immediate(admitted(100, age_s=70), NOW, 30)  # 30 s left
    assert not deadline_allows_immediate(admitted(100, age_s=71), NOW, 30)
