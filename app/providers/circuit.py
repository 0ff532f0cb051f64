"""Circuit breakers: stop calling a (provider, model) that keeps failing.

One breaker per (provider, model)::

    CLOSED ──(failure_threshold consecutive retryable failures,
    │          or billing_threshold consecutive billing/quota errors)──► OPEN
    ▲                                                                    │ cooldown_s
    │ probe succeeds                                                     ▼
    └──────────────────────────── HALF_OPEN ◄────────────────────────────┘
                                     │ probe fails ──► OPEN (a new cooldown)

* CLOSED: every call is allowed; outcomes are counted.
* OPEN: no call is allowed. Outcomes of calls that were already in flight when the
  breaker opened are ignored (they say nothing new).
* HALF_OPEN: exactly one probe call is allowed; its outcome closes or reopens the breaker.
  A probe whose outcome never arrives (cancelled caller) is given up after ``cooldown_s``
  and another probe is allowed.

Outcomes are classified by :func:`classify`: a success, and also a non-retryable provider
rejection (bad request, not found…: the provider answered), count as "the provider is up";
retryable errors (rate limits, overload, 5xx, timeouts) are failures; billing/quota errors
(:func:`is_billing_error`) are failures that also trip the breaker sooner. Our own errors
(``internal_error``, ``circuit_open``) are ignored.

State changes update the ``frugalflow_circuit_state`` gauge and call every listener added
with :meth:`CircuitBreakers.add_listener` (synchronously; a listener that raises is logged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Final

from prometheus_client import Gauge

from frugalflow.providers.base import ChatResult, ProviderError
from frugalflow.providers.errors import ErrorCode, is_retryable

log = logging.getLogger("frugalflow.circuit")

CIRCUIT_OPEN: Final = "circuit_open"  # the stable error code of a call the breaker refused
BILLING_WORDS: Final = ("credit", "billing", "quota")
# Codes whose message may reveal a billing/quota problem (OpenAI's insufficient_quota is a 429).
BILLING_PRONE_CODES: Final = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.BAD_REQUEST, ErrorCode.AUTH_ERROR}
)

CIRCUIT_STATE = Gauge(
    "frugalflow_circuit_state",
    "Circuit breaker state per provider and model (0 closed, 1 half-open, 2 open)",
    ["provider", "model"],
)


class CircuitState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class Outcome(Enum):
    SUCCESS = "success"  # the provider answered (even a non-retryable rejection)
    FAILURE = "failure"  # retryable: the provider is unhealthy
    BILLING = "billing"  # billing/quota: calls will keep failing until someone pays
    IGNORED = "ignored"  # says nothing about the provider


@dataclass(frozen=True, slots=True)
class CircuitConfig:
    failure_threshold: int = 5
    billing_threshold: int = 2
    cooldown_s: float = 30.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.billing_threshold < 1 or self.cooldown_s < 0:
            raise ValueError(f"invalid circuit config: {self}")


@dataclass(frozen=True, slots=True)
class CircuitChange:
    """One state transition, as given to listeners."""

    provider: str
    model: str
    old: CircuitState
    new: CircuitState
    reason: str


CircuitListener = Callable[[CircuitChange], None]
Clock = Callable[[], float]


def _code_and_message(outcome: ChatResult | BaseException) -> tuple[str | None, str]:
    if isinstance(outcome, ChatResult):
        return outcome.error_code, outcome.error_message or ""
    if isinstance(outcome, ProviderError):
        return outcome.code, outcome.message
    return None, str(outcome)


def is_billing_error(outcome: ChatResult | BaseException) -> bool:
    """A billing or quota failure: ``provider_billing_error`` (HTTP 402), or a 429/400/403
    whose message mentions credit, billing or quota."""
    if isinstance(outcome, ChatResult) and outcome.ok:
        return False
    code, message = _code_and_message(outcome)
    if code == ErrorCode.BILLING:
        return True
    lowered = message.lower()
    return code in BILLING_PRONE_CODES and any(word in lowered for word in BILLING_WORDS)


def classify(outcome: ChatResult | BaseException) -> Outcome:
    if isinstance(outcome, ChatResult) and outcome.ok:
        return Outcome.SUCCESS
    if isinstance(outcome, TimeoutError):  # asyncio.TimeoutError is TimeoutError (3.11+)
        return Outcome.FAILURE
    code, _ = _code_and_message(outcome)
    if code is None or code == CIRCUIT_OPEN:
        return Outcome.IGNORED
    if is_billing_error(outcome):
        return Outcome.BILLING
    if is_retryable(code):
        return Outcome.FAILURE
    if code.startswith("provider_"):
        return Outcome.SUCCESS  # a non-retryable rejection: the provider is up
    return Outcome.IGNORED  # e.g. internal_error: our bug, not the provider's


class CircuitBreaker:
    """The state machine of one (provider, model). Not thread-safe (one event loop)."""

    def __init__(
        self,
        provider: str,
        model: str,
        config: CircuitConfig,
        clock: Clock,
        on_change: Callable[[CircuitChange], None],
    ) -> None:
        self.provider = provider
        self.model = model
        self._config = config
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._billing = 0
        self._opened_at = 0.0
        self._probe_started_at: float | None = None

    @property
    def state(self) -> CircuitState:
        self._advance()
        return self._state

    def allow(self) -> bool:
        self._advance()
        if self._state is CircuitState.CLOSED:
            return True
        if self._state is CircuitState.OPEN:
            return False
        now = self._clock()
        probe = self._probe_started_at
        if probe is not None and now - probe < self._config.cooldown_s:
            return False  # the one probe is still out
        self._probe_started_at = now
        return True

    def record(self, outcome: ChatResult | BaseException) -> None:
        self.record_kind(classify(outcome))

    def record_kind(self, kind: Outcome) -> None:
        self._advance()
        if kind is Outcome.IGNORED:
            if self._state is CircuitState.HALF_OPEN:
                self._probe_started_at = None  # the probe told us nothing: allow another
            return
        if self._state is CircuitState.OPEN:
            return  # in flight before the breaker opened
        if self._state is CircuitState.HALF_OPEN:
            if kind is Outcome.SUCCESS:
                self._transition(CircuitState.CLOSED, "probe succeeded")
            else:
                self._open(f"probe failed ({kind.value})")
            return
        if kind is Outcome.SUCCESS:
            self._failures = self._billing = 0
            return
        self._failures += 1
        self._billing = self._billing + 1 if kind is Outcome.BILLING else 0
        if self._billing >= self._config.billing_threshold:
            self._open(f"{self._billing} consecutive billing/quota errors")
        elif self._failures >= self._config.failure_threshold:
            self._open(f"{self._failures} consecutive failures")

    def _advance(self) -> None:
        """OPEN becomes HALF_OPEN once the cooldown has passed."""
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self._config.cooldown_s
        ):
            self._probe_started_at = None
            self._transition(CircuitState.HALF_OPEN, "cooldown elapsed")

    def _open(self, reason: str) -> None:
        self._opened_at = self._clock()
        self._transition(CircuitState.OPEN, reason)

    def _transition(self, new: CircuitState, reason: str) -> None:
        old, self._state = self._state, new
        self._failures = self._billing = 0
        self._probe_started_at = None
        if old is not new:
            self._on_change(CircuitChange(self.provider, self.model, old, new, reason))


class CircuitBreakers:
    """Every breaker of a worker, keyed by (provider, model), created on first use."""

    def __init__(self, config: CircuitConfig | None = None, clock: Clock = time.monotonic) -> None:
        self.config = config or CircuitConfig()
        self._clock = clock
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}
        self._listeners: list[CircuitListener] = []

    def add_listener(self, listener: CircuitListener) -> None:
        self._listeners.append(listener)

    def allow(self, provider: str, model: str) -> bool:
        return self._breaker(provider, model).allow()

    def record(self, provider: str, model: str, outcome: ChatResult | BaseException) -> None:
        self._breaker(provider, model).record(outcome)

    def record_success(self, provider: str, model: str) -> None:
        """A call that returns no ChatResult (e.g. a batch submission) succeeded."""
        self._breaker(provider, model).record_kind(Outcome.SUCCESS)

    def state(self, provider: str, model: str) -> CircuitState:
        return self._breaker(provider, model).state

    def states(self) -> dict[tuple[str, str], CircuitState]:
        return {key: breaker.state for key, breaker in self._breakers.items()}

    def _breaker(self, provider: str, model: str) -> CircuitBreaker:
        breaker = self._breakers.get((provider, model))
        if breaker is None:
            breaker = CircuitBreaker(provider, model, self.config, self._clock, self._changed)
            self._breakers[(provider, model)] = breaker
            CIRCUIT_STATE.labels(provider=provider, model=model).set(CircuitState.CLOSED)
        return breaker

    def _changed(self, change: CircuitChange) -> None:
        CIRCUIT_STATE.labels(provider=change.provider, model=change.model).set(change.new)
        level = logging.WARNING if change.new is CircuitState.OPEN else logging.INFO
        log.log(
            level, "circuit %s/%s %s -> %s: %s",
            change.provider, change.model, change.old.name, change.new.name, change.reason,
        )  # fmt: skip
        for listener in self._listeners:
            try:
                listener(change)
            except Exception:
                log.exception("circuit listener failed on %s", change)
