"""The circuit breaker's state machine, driven by a fake clock."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from frugalflow.providers.base import ChatResult, ProviderError
from frugalflow.providers.circuit import (
    CIRCUIT_OPEN,
    CircuitBreakers,
    CircuitChange,
    CircuitConfig,
    CircuitState,
    Outcome,
    classify,
    is_billing_error,
)
from frugalflow.providers.errors import ErrorCode, code_for_status, failure_result

P, M = "anthropic", "claude-test"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def ok() -> ChatResult:
    return ChatResult(custom_id="r", ok=True, model=M, content="hi")


def failed(code: str, message: str = "boom") -> ChatResult:
    return failure_result("r", M, code, message)


SERVER_ERROR = failed(ErrorCode.SERVER_ERROR)
BILLING_402 = failed(ErrorCode.BILLING, "Emulated fault 402.")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breakers(clock: FakeClock) -> CircuitBreakers:
    return CircuitBreakers(CircuitConfig(), clock=clock)


def trip(breakers: CircuitBreakers, provider: str = P, model: str = M) -> None:
    for _ in range(breakers.config.failure_threshold):
        assert breakers.allow(provider, model)
        breakers.record(provider, model, SERVER_ERROR)
    assert breakers.state(provider, model) is CircuitState.OPEN


def test_opens_after_threshold_consecutive_retryable_failures(breakers: CircuitBreakers) -> None:
    for _ in range(4):
        breakers.record(P, M, SERVER_ERROR)
    assert breakers.state(P, M) is CircuitState.CLOSED and breakers.allow(P, M)
    breakers.record(P, M, failed(ErrorCode.RATE_LIMITED, "Rate limit exceeded"))
    assert breakers.state(P, M) is CircuitState.OPEN
    assert not breakers.allow(P, M)


@pytest.mark.parametrize(
    "between",
    [ok(), failed(ErrorCode.BAD_REQUEST, "messages: Field required")],
    ids=["success", "non-retryable rejection: the provider is up"],
)
def test_an_answer_resets_the_count(breakers: CircuitBreakers, between: ChatResult) -> None:
    for _ in range(4):
        breakers.record(P, M, SERVER_ERROR)
    breakers.record(P, M, between)
    for _ in range(4):
        breakers.record(P, M, SERVER_ERROR)
    assert breakers.state(P, M) is CircuitState.CLOSED


def test_our_own_errors_are_ignored(breakers: CircuitBreakers) -> None:
    for _ in range(4):
        breakers.record(P, M, SERVER_ERROR)
    breakers.record(P, M, failed("internal_error", "bug"))
    breakers.record(P, M, failed(CIRCUIT_OPEN, "open"))
    breakers.record(P, M, ValueError("bug"))
    assert breakers.state(P, M) is CircuitState.CLOSED
    breakers.record(P, M, SERVER_ERROR)  # the 5th consecutive provider failure
    assert breakers.state(P, M) is CircuitState.OPEN


def test_exceptions_count_like_results(breakers: CircuitBreakers) -> None:
    for _ in range(3):
        breakers.record(P, M, ProviderError(ErrorCode.OVERLOADED, "overloaded", retryable=True))
    breakers.record(P, M, TimeoutError())
    breakers.record(P, M, ProviderError(ErrorCode.CONNECTION_ERROR, "refused", retryable=True))
    assert breakers.state(P, M) is CircuitState.OPEN


def test_cooldown_then_exactly_one_probe(breakers: CircuitBreakers, clock: FakeClock) -> None:
    trip(breakers)
    clock.advance(29.9)
    assert breakers.state(P, M) is CircuitState.OPEN and not breakers.allow(P, M)
    clock.advance(0.1)
    assert breakers.state(P, M) is CircuitState.HALF_OPEN
    assert breakers.allow(P, M), "the probe"
    assert not breakers.allow(P, M), "a second call while the probe is out"
    assert not breakers.allow(P, M)
    breakers.record(P, M, ok())
    assert breakers.state(P, M) is CircuitState.CLOSED
    assert all(breakers.allow(P, M) for _ in range(10))


@pytest.mark.parametrize("probe_outcome", [SERVER_ERROR, None], ids=["failed", "lost"])
def test_a_failed_or_lost_probe_waits_a_new_cooldown(
    breakers: CircuitBreakers, clock: FakeClock, probe_outcome: ChatResult | None
) -> None:
    trip(breakers)
    clock.advance(30)
    assert breakers.allow(P, M)
    if probe_outcome is not None:  # else its caller was cancelled and never records one
        breakers.record(P, M, probe_outcome)  # one failure is enough in half-open
        assert breakers.state(P, M) is CircuitState.OPEN
    clock.advance(29)
    assert not breakers.allow(P, M)
    clock.advance(1)
    assert breakers.allow(P, M)


def test_an_uninformative_probe_outcome_frees_the_probe(
    breakers: CircuitBreakers, clock: FakeClock
) -> None:
    trip(breakers)
    clock.advance(30)
    assert breakers.allow(P, M)
    breakers.record(P, M, failed("internal_error", "bug"))
    assert breakers.state(P, M) is CircuitState.HALF_OPEN
    assert breakers.allow(P, M)


def test_outcomes_of_calls_in_flight_when_it_opened_are_ignored(
    breakers: CircuitBreakers, clock: FakeClock
) -> None:
    trip(breakers)
    breakers.record(P, M, ok())  # a slow call that started before the breaker opened
    assert breakers.state(P, M) is CircuitState.OPEN
    clock.advance(15)
    breakers.record(P, M, SERVER_ERROR)
    clock.advance(15)  # the cooldown still counts from the opening
    assert breakers.state(P, M) is CircuitState.HALF_OPEN


def test_billing_errors_trip_after_two(breakers: CircuitBreakers) -> None:
    breakers.record(P, M, BILLING_402)
    assert breakers.state(P, M) is CircuitState.CLOSED
    breakers.record(P, M, failed(ErrorCode.RATE_LIMITED, "You exceeded your current quota"))
    assert breakers.state(P, M) is CircuitState.OPEN


def test_billing_errors_must_be_consecutive(breakers: CircuitBreakers) -> None:
    breakers.record(P, M, BILLING_402)
    breakers.record(P, M, SERVER_ERROR)
    breakers.record(P, M, BILLING_402)
    assert breakers.state(P, M) is CircuitState.CLOSED
    breakers.record(P, M, BILLING_402)
    assert breakers.state(P, M) is CircuitState.OPEN


@pytest.mark.parametrize(
    ("outcome", "billing"),
    [
        (BILLING_402, True),
        (failed(ErrorCode.RATE_LIMITED, "You exceeded your current quota, check billing"), True),
        (failed(ErrorCode.BAD_REQUEST, "Your credit balance is too low"), True),
        (failed(ErrorCode.AUTH_ERROR, "Billing is not active for this organization"), True),
        (ProviderError(ErrorCode.BILLING, "payment required"), True),
        (failed(ErrorCode.RATE_LIMITED, "Rate limit exceeded (emulated fault)."), False),
        (failed(ErrorCode.SERVER_ERROR, "quota service down"), False),  # 5xx: not billing
        (failed(ErrorCode.BAD_REQUEST, "max_tokens: Field required"), False),
        (ok(), False),
        (TimeoutError(), False),
    ],
)
def test_is_billing_error(outcome: ChatResult | BaseException, billing: bool) -> None:
    assert is_billing_error(outcome) is billing
    if billing:
        assert classify(outcome) is Outcome.BILLING


def test_http_402_maps_to_the_billing_code() -> None:
    assert code_for_status(402) is ErrorCode.BILLING
    assert ErrorCode.BILLING.value == "provider_billing_error"


def test_breakers_are_per_provider_and_model(breakers: CircuitBreakers) -> None:
    trip(breakers, P, M)
    assert breakers.allow(P, "claude-other")
    assert breakers.allow("openai", M)
    assert breakers.state(P, "claude-other") is CircuitState.CLOSED
    assert breakers.states()[(P, M)] is CircuitState.OPEN


def test_listeners_see_every_transition(breakers: CircuitBreakers, clock: FakeClock) -> None:
    seen: list[CircuitChange] = []

    def broken(change: CircuitChange) -> None:
        raise RuntimeError("a broken listener must not break the breaker")

    breakers.add_listener(broken)
    breakers.add_listener(seen.append)
    trip(breakers)
    clock.advance(30)
    assert breakers.allow(P, M)
    breakers.record(P, M, ok())
    assert [(c.provider, c.model, c.old, c.new) for c in seen] == [
        (P, M, CircuitState.CLOSED, CircuitState.OPEN),
        (P, M, CircuitState.OPEN, CircuitState.HALF_OPEN),
        (P, M, CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]
    assert seen[0].reason == "5 consecutive failures"


def test_gauge_follows_the_state(breakers: CircuitBreakers, clock: FakeClock) -> None:
    model = "claude-gauge-test"

    def gauge() -> float | None:
        labels = {"provider": P, "model": model}
        return REGISTRY.get_sample_value("frugalflow_circuit_state", labels)

    assert breakers.allow(P, model)
    assert gauge() == 0
    trip(breakers, P, model)
    assert gauge() == 2
    clock.advance(30)
    assert breakers.allow(P, model)
    assert gauge() == 1


def test_custom_thresholds(clock: FakeClock) -> None:
    breakers = CircuitBreakers(
        CircuitConfig(failure_threshold=2, billing_threshold=1, cooldown_s=5), clock=clock
    )
    breakers.record(P, M, BILLING_402)
    assert breakers.state(P, M) is CircuitState.OPEN
    clock.advance(5)
    assert breakers.state(P, M) is CircuitState.HALF_OPEN
    with pytest.raises(ValueError):
        CircuitConfig(failure_threshold=0)
