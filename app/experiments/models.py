"""Experiments, their variants, the events on ``llm.feedback`` and analysis results.

``llm.feedback`` carries two shapes, both keyed by ``tenant_id``: ``FeedbackEvent`` (an
experiment outcome) and ``RouteOutcome`` (``"kind": "route_outcome"``: whether the model
that served a request did the job, which the learning router counts).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from frugalflow.policy.models import Tier
from frugalflow.policy.tiers import tier_of

Status = Literal["draft", "running", "paused", "completed"]
Kind = Literal["impression", "adoption", "conversion", "satisfaction"]
Metric = Literal["conversion", "adoption", "satisfaction"]
# No control characters: Postgres text cannot hold NUL, and ids are printed in reports.
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]

# status -> statuses it may move to (``completed`` is final)
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"running", "completed"}),
    "running": frozenset({"paused", "completed"}),
    "paused": frozenset({"running", "completed"}),
    "completed": frozenset(),
}


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
    weight: float = Field(gt=0, le=1_000_000, allow_inf_nan=False)
    model: Name | None = None
    prompt: Annotated[str, Field(max_length=20_000, pattern=r"^[^\x00]*$")] | None = None


class ExperimentIn(BaseModel):
    """The body of ``POST /v1/experiments``; the first variant is the control."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    tenant: Name
    variants: list[Variant] = Field(min_length=2, max_length=20)
    status: Literal["draft", "running"] = "draft"

    @field_validator("variants")
    @classmethod
    def _unique_names(cls, variants: list[Variant]) -> list[Variant]:
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        return variants


class Experiment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    tenant: str
    variants: list[Variant]
    status: Status
    created_at: datetime

    @property
    def control(self) -> Variant:
        return self.variants[0]


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status


class FeedbackEvent(BaseModel):
    """An outcome on ``llm.feedback``, keyed by ``tenant_id``.

    ``value`` is 1 for impressions, adoptions and conversions; a satisfaction event
    carries the score (any scale, the same for every variant of an experiment).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: Name
    experiment_id: Name
    variant: Name
    user_id: Name | None = None
    tenant_id: Name
    kind: Kind
    value: float = Field(1.0, ge=-1e9, le=1e9, allow_inf_nan=False)
    occurred_at: datetime

    @staticmethod
    def impression_id(tenant_id: str, request_id: str, experiment_id: str) -> str:
        """The impression of one request: a redelivered request is never counted twice."""
        key = f"impression\x00{tenant_id}\x00{request_id}\x00{experiment_id}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


class RouteOutcome(BaseModel):
    """Whether the model that served a request did the job, on ``llm.feedback``.

    ``{"kind": "route_outcome", "event_id"?, "tenant_id", "request_id", "use_case"?,
    "model", "success": true|false, "occurred_at"?}``, keyed by ``tenant_id``. Without an
    ``event_id`` the event is identified by its tenant and request (``route_outcome_id``),
    so one request has one outcome and a redelivered event is stored once. ``use_case``
    defaults to ``""`` (none), ``occurred_at`` to the time the event is read; a time
    without a zone is UTC. The learning router counts outcomes per tenant, use case and
    ``tier`` (the model's catalog tier); a model without a tier (not in the catalog, or
    untiered) is stored but teaches nothing.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["route_outcome"]
    event_id: Name
    tenant_id: Name
    request_id: Name
    use_case: Annotated[str, Field(max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    model: Name
    success: StrictBool  # "false" (a string) would read as true in too many languages
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # let validation say what is wrong
        data = dict(data)
        if data.get("use_case") is None:
            data["use_case"] = ""
        tenant, request = data.get("tenant_id"), data.get("request_id")
        if data.get("event_id") is None and isinstance(tenant, str) and isinstance(request, str):
            data["event_id"] = cls.route_outcome_id(tenant, request)
        return data

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    @property
    def tier(self) -> Tier | None:
        return tier_of(self.model)

    @staticmethod
    def route_outcome_id(tenant_id: str, request_id: str) -> str:
        key = f"route_outcome\x00{tenant_id}\x00{request_id}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


class VariantCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    variant: str
    impressions: int
    adoptions: int
    conversions: int
    satisfaction_n: int
    satisfaction_mean: float | None


class VariantResult(BaseModel):
    """One variant on one metric; ``lift`` and ``p_value`` compare it with the control."""

    model_config = ConfigDict(frozen=True)

    variant: str
    n: int  # impressions for rates, scores for satisfaction
    rate: float | None  # conversion/adoption rate, or the mean satisfaction
    lift: float | None  # relative to the control; None for the control or a zero control
    p_value: float | None
    significant: bool


class MetricAnalysis(BaseModel):
    model_config = ConfigDict(frozen=True)

    metric: Metric
    test: Literal["two_proportion_z", "welch_t"]
    variants: list[VariantResult]
    winner: str | None  # only a variant significantly better than the control


class ExperimentAnalysis(BaseModel):
    model_config = ConfigDict(frozen=True)

    experiment_id: str
    control: str
    min_sample: int
    alpha: float
    sample_size_met: bool
    counts: list[VariantCounts]
    metrics: list[MetricAnalysis]
