"""The one interface every provider adapter implements.

Adapters translate between FrugalFlow's provider-neutral request/result types and one
provider's official SDK. Usage is normalized here so costing never needs to know which
provider served an answer: ``input_tokens`` counts *uncached* input only (Anthropic
reports it that way; OpenAI's ``prompt_tokens`` includes cached tokens and is converted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from frugalflow.costing.rates import Mode


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str  # "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One provider call. ``custom_id`` is our request id; batch results map back by it."""

    custom_id: str
    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    system: str | None = None
    temperature: float | None = None
    service_tier: Mode | None = None  # "flex" asks for the flex tier; None: the default


@dataclass(frozen=True, slots=True)
class Usage:
    """Normalized token counts. ``input_tokens`` excludes cache writes and cache reads."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    # The part of cache_write_tokens written with a 1-hour TTL (Anthropic bills it at 2x
    # input, 5-minute writes at 1.25x). Internal only: the contract's usage has four fields.
    cache_write_1h_tokens: int = 0
    # The part written with an extended retention (OpenAI's 24 h), billed at its own price.
    cache_write_extended_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
        }


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The outcome of one request, from the immediate path or one line of a batch result."""

    custom_id: str
    ok: bool
    model: str
    content: str | None = None
    usage: Usage = field(default_factory=Usage)
    error_code: str | None = None  # stable code, e.g. "provider_rate_limited", "batch_expired"
    error_message: str | None = None
    retryable: bool = False
    # The service mode the provider says it billed (OpenAI's and Gemini's ``service_tier``);
    # batch results are billed in batch mode whatever this says.
    service_tier: Mode = "standard"
    # What the provider says it billed (OpenRouter's usage.cost), set beside our own cost.
    provider_cost_usd: Decimal | None = None


class BatchState(StrEnum):
    PENDING = "pending"  # accepted, still being processed
    ENDED = "ended"  # results can be fetched (some lines may be errors)
    EXPIRED = "expired"  # provider gave up; every unfinished request is an error
    FAILED = "failed"  # the batch as a whole was rejected or cancelled


@dataclass(frozen=True, slots=True)
class BatchPoll:
    batch_id: str
    state: BatchState
    detail: str = ""


class CachingStrategy(StrEnum):
    EXPLICIT = "explicit"  # we place breakpoints (Anthropic cache_control)
    AUTOMATIC = "automatic"  # the provider caches prefixes itself (OpenAI, Gemini implicit)
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can do; the router, batcher and cache placement read this."""

    batching: bool
    caching: CachingStrategy
    batch_max_requests: int = 0  # provider cap per batch (0 = no batching)
    batch_max_bytes: int = 0
    min_cacheable_tokens: int = 1024  # default; the catalog has per-model values
    flex: bool = False  # a flex service tier on the real-time API (``service_tier``)


class ProviderError(Exception):
    """A provider call failed. ``code`` is stable and machine-readable."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after_s = retry_after_s  # the server's own hint, when it gave one


@runtime_checkable
class ProviderAdapter(Protocol):
    """What the dispatchers need from a provider. Implementations own their SDK client."""

    name: str
    capabilities: Capabilities

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Immediate call. Provider failures come back as ``ChatResult(ok=False)``."""
        ...

    async def submit_batch(self, requests: list[ChatRequest], metadata: dict[str, str]) -> str:
        """Submit a batch; returns the provider's batch id. Raises ProviderError."""
        ...

    async def poll_batch(self, batch_id: str) -> BatchPoll:
        """One status check. Raises ProviderError on transport failure."""
        ...

    async def find_batch(self, marker: str, created_after: float) -> str | None:
        """The id of a batch submitted with ``metadata={"frugalflow_batch": marker}`` since
        ``created_after`` (epoch seconds), or None. Used after a crash mid-submit to adopt a
        batch the provider accepted instead of submitting it again. None when the provider
        cannot tell (no batch metadata)."""
        ...

    async def batch_results(self, batch_id: str) -> list[ChatResult]:
        """Every per-request outcome of an ended/expired batch, keyed by custom_id."""
        ...

    async def aclose(self) -> None: ...


JSON = dict[str, Any]

BATCH_MARKER = "frugalflow_batch"  # batch metadata key naming our batch record
