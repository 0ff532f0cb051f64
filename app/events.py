"""Pydantic models of the wire contract (shared/CONTRACT.md) and the internal topics.

Contract models are strict about what upstream services send (``RequestEvent``) and
exact about what we emit: money is ``Decimal`` serialized as a string, never a float.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from operator import methodcaller
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from frugalflow.policy.models import SafetyOutcome

# ``format(d, "f")``: plain notation, never an exponent. A C callable, not a lambda: it is
# called for every money field of every event the sink writes.
Money = Annotated[Decimal, PlainSerializer(methodcaller("__format__", "f"), return_type=str)]
Id = Annotated[str, Field(min_length=1, max_length=128)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Path(StrEnum):
    IMMEDIATE = "immediate"
    BATCH = "batch"
    FLEX = "flex"  # the real-time API's flex tier: batch-like price, slower, may refuse
    RESPONSE_CACHE = "response_cache"
    PATTERN = "pattern"
    FALLBACK = "fallback"
    NONE = "none"
    # Spend of a provider call made outside the stream, reported by the client's
    # ``track_cost`` (cost events only; no answer on ``llm.responses`` has this path).
    DIRECT = "direct"


class Status(StrEnum):
    OK = "ok"
    FALLBACK = "fallback"
    REJECTED = "rejected"
    ERROR = "error"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class RequestEvent(BaseModel):
    """A NEW_RECORD on ``llm.requests``. Unknown fields are ignored (the contract may grow)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: Literal["NEW_RECORD"]
    request_id: Id
    tenant_id: Id
    messages: list[Message] = Field(min_length=1)
    max_tokens: int = Field(ge=1, le=65536)
    system: str | None = None
    model: str = Field("auto", min_length=1, max_length=128)
    provider: str | None = Field(None, min_length=1, max_length=64)
    priority: Literal["immediate", "batch"] = "immediate"
    deadline_s: int | None = Field(None, ge=1)
    service: str | None = Field(None, max_length=128)
    use_case: str | None = Field(None, max_length=128)
    user_id: str | None = Field(None, max_length=128)
    temperature: float | None = Field(None, ge=0, le=2)
    cache_ttl_s: int | None = Field(None, ge=0)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None

    @model_validator(mode="after")
    def _last_message_from_user(self) -> RequestEvent:
        if self.messages[-1].role != "user":
            raise ValueError("the last message must come from 'user'")
        return self


class Admitted(BaseModel):
    """A validated request on ``llm.admitted`` with the decisions intake made for it."""

    model_config = ConfigDict(frozen=True)

    request: RequestEvent
    path: Literal["immediate", "batch", "flex"]
    provider: str
    model: str
    requested_model: str  # what the caller asked for; the baseline is priced on it
    admitted_at: datetime
    # Policy decisions intake made (issue 5); all optional so older records still parse.
    tier: str | None = None  # the model's tier ("small" | "medium" | "large")
    route_reason: str | None = None  # why this model: "requested", "complexity:small (…)", …
    safety: SafetyOutcome | None = None  # what the safety checks did to the text
    cache_digest: str | None = None  # response-cache key of the request; None = not cacheable
    cache_tier: str | None = None  # what the cache key was scoped by (tier or pinned model)
    cache_ttl_s: int = 0  # how long an ok answer stays fresh in the response cache


class UsageOut(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0


class ErrorOut(BaseModel):
    code: str
    message: str


class ResponseEvent(BaseModel):
    """One answer per request id on ``llm.responses``."""

    request_id: str
    tenant_id: str
    status: Status
    path: Path
    provider: str | None = None
    model: str | None = None
    content: str | None = None
    usage: UsageOut = Field(default_factory=UsageOut)
    cost_usd: Money = Decimal("0")
    baseline_cost_usd: Money = Decimal("0")
    error: ErrorOut | None = None
    latency_ms: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Additions to the v1 contract (optional fields): how policy shaped the answer.
    route_reason: str | None = None  # why this model was chosen
    safety: SafetyOutcome | None = None  # redactions / flags applied before any provider
    fallback_reason: str | None = None  # set exactly when status is "fallback"
    # What the provider says it billed (OpenRouter's usage.cost), when it says, and whether
    # that differs from ``cost_usd`` by more than app/costing/reported.py's tolerance.
    provider_reported_cost_usd: Money | None = None
    cost_mismatch: bool | None = None


class Savings(BaseModel):
    batch: Money = Decimal("0")
    prompt_cache: Money = Decimal("0")
    response_cache: Money = Decimal("0")
    pattern: Money = Decimal("0")
    routing: Money = Decimal("0")
    # The real-time service tier: positive on flex, negative when billed at priority.
    flex: Money = Decimal("0")

    def total(self) -> Decimal:
        return (
            self.batch + self.prompt_cache + self.response_cache + self.pattern + self.routing
            + self.flex
        )  # fmt: skip


class CostEvent(BaseModel):
    """One event per billed (or saved) answer on ``llm.cost-events``."""

    event_id: str
    request_id: str
    tenant_id: str
    service: str | None = None
    use_case: str | None = None
    provider: str | None = None
    model: str | None = None
    path: Path
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: Money = Decimal("0")
    baseline_cost_usd: Money = Decimal("0")
    savings_usd: Savings = Field(default_factory=Savings)
    success: bool
    occurred_at: datetime
    route_reason: str | None = None  # why this model was chosen (router, experiment, request)
    provider_reported_cost_usd: Money | None = None  # as on the answer
    cost_mismatch: bool | None = None

    @staticmethod
    def stable_id(tenant_id: str, request_id: str) -> str:
        """Same request → same id, so a redelivered answer is never counted twice."""
        return hashlib.sha256(f"cost\x00{tenant_id}\x00{request_id}".encode()).hexdigest()[:32]


class DeadLetter(BaseModel):
    reason: str
    detail: str
    source_topic: str
    partition: int
    offset: int
    key: str | None
    value: str
    value_encoding: Literal["utf-8", "base64"]
    occurred_at: datetime = Field(default_factory=utcnow)


class Alert(BaseModel):
    tenant_id: str
    kind: str
    period: str
    spent_usd: Money
    limit_usd: Money
    occurred_at: datetime = Field(default_factory=utcnow)
    # Optional additions: which budget (service / use case, None = any) and threshold;
    # for health alerts (tenant_id "*"), what happened.
    detail: str | None = None
    service: str | None = None
    use_case: str | None = None
    threshold: Money | None = None
    # Optional addition: a producer may name the alert; else ``identity()`` derives one.
    alert_id: str | None = Field(default=None, min_length=1, max_length=128)

    def identity(self) -> str:
        """The alert's stable id: the same alert published twice gets the same id.

        Budget and life-cycle alerts are sent once per budget, threshold and period (or
        tenant and model), so their content names them. Health alerts (period ``"now"``)
        recur, so each occurrence is told apart by its time.
        """
        if self.alert_id:
            return self.alert_id
        parts = [
            self.tenant_id, self.kind, self.period, self.service or "", self.use_case or "",
            "" if self.threshold is None else format(self.threshold, "f"), self.detail or "",
        ]  # fmt: skip
        if self.period in ("", "now") and self.kind != "model_deprecated":
            parts.append(self.occurred_at.isoformat())
        digest = hashlib.sha256("\x00".join(["alert", *parts]).encode()).hexdigest()
        return digest[:32]


class Settlement(BaseModel):
    """An answer's real cost, for the budget ledger, carried by a ``done`` batch record:
    the poller that answers a batch is a timer, which cannot write the ledger's table."""

    tenant_id: str
    request_id: str
    cost_usd: Money


class BatchRecord(BaseModel):
    """A provider batch's slice for one partition, kept on the compacted ``llm.batches``.

    A provider batch may hold requests of several partitions; each partition gets its own
    record (keyed ``<batch_key>:<partition>``) so whichever worker owns the partition
    polls the batch and answers exactly its own requests, across restarts and rebalances.
    """

    batch_key: str
    partition: int
    state: Literal["submitting", "submitted", "done"]
    provider: str
    provider_batch_id: str | None = None
    requests: list[Admitted] = Field(default_factory=list)
    settled: list[Settlement] = Field(default_factory=list)  # ``done``: answers to settle
    submitted_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def record_key(self) -> str:
        return f"{self.batch_key}:{self.partition}"
