"""One model's prices: per service mode, per context band, per token class.

Providers do not bill one price per token class with a flat discount on top. What a token
costs depends on three things, and the catalog keeps each as data:

* the **service mode** the provider served the request in: ``standard`` (the real-time
  API), ``batch`` (Batch APIs), ``flex`` (OpenAI and Gemini: real-time API, batch-like
  price, slower and sometimes refused) or ``priority`` (dearer, faster);
* the **context band**: above a per-model threshold of prompt tokens (200k or 272k) some
  models bill the *whole* request at higher rates;
* the **token class**: plain input, output (reasoning tokens included), cache writes by
  retention (5 minutes, 1 hour, extended: OpenAI's retention above 12 hours) and cache
  reads. Each mode has its own price per class: a cached read on the batch path is not
  always half the standard read.

A class the provider does not price separately in a mode falls back along one chain,
written once here (:data:`FALLBACK`): a 5-minute write costs plain input (OpenAI and
Gemini charge no write surcharge), a 1-hour write the 5-minute one, an extended write
the 1-hour one, and a cache read plain input (no discount assumed, never an under-cost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, cast, get_args

from frugalflow.policy.models import Tier

Mode = Literal["standard", "batch", "flex", "priority"]
MODES: tuple[Mode, ...] = get_args(Mode)
TokenClass = Literal[
    "input", "output", "cache_write_5m", "cache_write_1h", "cache_write_extended", "cache_read"
]
TOKEN_CLASSES: tuple[TokenClass, ...] = get_args(TokenClass)
# A class left out of a mode costs what the class it falls back to costs (module doc).
FALLBACK: dict[TokenClass, TokenClass] = {
    "cache_write_5m": "input",
    "cache_write_1h": "cache_write_5m",
    "cache_write_extended": "cache_write_1h",
    "cache_read": "input",
}
REQUIRED_CLASSES: tuple[TokenClass, ...] = ("input", "output")
PER_TOKEN = Decimal(1_000_000)


class ModeUnavailableError(LookupError):
    """The model is not sold in this service mode (e.g. no flex tier, no Batch API)."""

    def __init__(self, model: str, mode: str) -> None:
        super().__init__(f"model {model!r} has no {mode} prices")
        self.model = model
        self.mode = mode


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per token (already divided by one million) of every class, in one mode and band."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_write_extended: Decimal
    cache_read: Decimal

    @classmethod
    def per_million(cls, listed: Mapping[str, Decimal]) -> Rates:
        """From per-million list prices of the classes given; the rest via :data:`FALLBACK`."""
        resolved: dict[str, Decimal] = {}
        for name in TOKEN_CLASSES:
            source: str = name
            while source not in listed:
                source = FALLBACK[cast(TokenClass, source)]
            resolved[name] = listed[source] / PER_TOKEN
        return cls(**resolved)

    def of(self, token_class: TokenClass) -> Decimal:
        return cast(Decimal, getattr(self, token_class))


@dataclass(frozen=True, slots=True)
class LongContext:
    """Rates for a prompt of more than ``above_tokens``: the whole request bills at them."""

    above_tokens: int
    modes: Mapping[Mode, Rates]


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Everything the catalog knows about one model's price and life cycle.

    ``input`` … ``cache_read`` are the standard mode's short-context rates (the list
    price people quote); :meth:`rates` gives any mode and band.
    """

    model: str
    provider: str
    modes: Mapping[Mode, Rates]  # always has "standard"
    min_cacheable_tokens: int
    context_window: int
    effective: date
    long_context: LongContext | None = None
    aliases: tuple[str, ...] = ()
    note: str | None = None
    tier: Tier | None = None  # the router's capability class; None = never routed to
    # False = priced but never chosen by the router. ``None`` only in a parsed document
    # that did not say; the loaded catalog always holds a bool.
    routable: bool | None = None
    deprecated: date | None = None  # from this day the router never picks it
    retires: date | None = None  # from this day the provider no longer serves it
    successor: str | None = None  # the model to move to

    @property
    def standard(self) -> Rates:
        return self.modes["standard"]

    @property
    def input(self) -> Decimal:
        return self.standard.input

    @property
    def output(self) -> Decimal:
        return self.standard.output

    @property
    def cache_write_5m(self) -> Decimal:
        return self.standard.cache_write_5m

    @property
    def cache_write_1h(self) -> Decimal:
        return self.standard.cache_write_1h

    @property
    def cache_read(self) -> Decimal:
        return self.standard.cache_read

    def offers(self, mode: Mode) -> bool:
        return mode in self.modes

    def is_long(self, prompt_tokens: int) -> bool:
        """Whether a prompt of ``prompt_tokens`` bills at the long-context rates."""
        return self.long_context is not None and prompt_tokens > self.long_context.above_tokens

    def rates(self, mode: Mode = "standard", prompt_tokens: int = 0) -> Rates:
        """The rates a request of ``prompt_tokens`` pays in ``mode``."""
        if mode not in self.modes:
            raise ModeUnavailableError(self.model, mode)
        if self.long_context is not None and self.is_long(prompt_tokens):
            return self.long_context.modes[mode]
        return self.modes[mode]

    def mode_discount(self, mode: Mode) -> Decimal:
        """How much cheaper ``mode``'s list input is than standard (0 when not offered).

        For estimates only (recommendations, reports); costs use :meth:`rates`.
        """
        if mode not in self.modes or not self.standard.input:
            return Decimal(0)
        return 1 - self.modes[mode].input / self.standard.input

    def status_on(self, day: date) -> Literal["active", "deprecated", "retired"]:
        if self.retires is not None and day >= self.retires:
            return "retired"
        if self.deprecated is not None and day >= self.deprecated:
            return "deprecated"
        return "active"

    def routable_on(self, day: date) -> bool:
        """Whether the router may choose it: tiered, routable, and not yet deprecated."""
        return bool(self.routable) and self.status_on(day) == "active"
