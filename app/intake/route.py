"""Choose provider, model and path for a valid request.

``model: "auto"`` goes to the router (``frugalflow.policy.router``) when intake passes one.

The baseline (``requested_model``) is what the tenant would have called without
FrugalFlow, so the ``routing`` lever shows what the router saved against it: a pinned
model is its own baseline; for ``auto`` it is the tenant policy's ``baseline`` model for
the use case, else the provider's large-tier model (:func:`baseline_model`). The default
model is the cheapest one, not what a team calls when nothing chooses for it: measured
against it, the router could only ever look like a cost. Under budget
degradation (forecast over the monthly limit) a request that allows a long deadline is
moved to the batch path even when it asked for ``immediate``. A request that may wait
minutes but not the hours of a batch goes to the flex tier where the model has one
(``_flex_allowed``).

Model life cycle (catalog dates, app/costing/rates.py): a model past its ``retires`` date
is rejected ``model_retired``, naming its successor; one past ``deprecated`` is still
served when a request names it, and the route says so (intake then alerts once per
tenant and model). The batch path is only taken for a model sold in batch mode.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime

from frugalflow.costing.catalog import UnknownModelError, price_of
from frugalflow.costing.rates import ModelPrice
from frugalflow.events import RequestEvent
from frugalflow.policy.models import BaselinePolicy, RouteChoice
from frugalflow.policy.tiers import model_for_tier, nearest_model
from frugalflow.settings import Settings

Router = Callable[[str], RouteChoice | None]  # provider → choice (None: use the default)


@dataclass(frozen=True, slots=True)
class Route:
    provider: str
    model: str
    requested_model: str
    path: str  # "immediate" | "batch" | "flex"
    tier: str | None = None
    reason: str = "requested"
    deprecated: ModelPrice | None = None  # set when a pinned model is past its deprecation


class RouteRejected(Exception):
    """The request is valid but cannot be served as asked; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# What ``model: "auto"`` means per provider until the router decides (settings fields).
AUTO_MODEL = {
    "anthropic": "default_model",
    "openai": "default_openai_model",
    "gemini": "default_gemini_model",
}


def default_model(settings: Settings, provider: str) -> str | None:
    """The model ``"auto"`` stands for on ``provider`` before routing (None: no default).

    The built-in providers have a setting each; a named OpenAI-compatible provider gets
    its nearest small-tier model (the cheap default, as the settings' defaults are).
    """
    field = AUTO_MODEL.get(provider)
    if field:
        return str(getattr(settings, field))
    found = nearest_model(provider, "small")
    return found[1] if found is not None else None


def choose_route(
    request: RequestEvent,
    settings: Settings,
    batch_capable: AbstractSet[str],
    *,
    router: Router | None = None,
    degrade: bool = False,
    day: date | None = None,
    baseline: BaselinePolicy | None = None,
    flex_capable: AbstractSet[str] = frozenset(),
) -> Route:
    today = day or datetime.now(UTC).date()
    provider = request.provider or _provider_of(request.model, settings)
    requested, reason, tier = request.model, "requested", None
    if request.model == "auto":
        default = default_model(settings, provider)
        choice = router(provider) if router is not None else None
        if choice is not None:
            model, reason, tier = choice.model, choice.reason, choice.tier
        elif default is not None:
            model, reason = default, "default"
        else:
            raise RouteRejected(
                "model_required", f"provider {provider!r} has no default model: name one"
            )
        requested = baseline_model(provider, default or model, request.use_case, baseline)
    else:
        model = request.model
    try:
        price = price_of(model)
    except UnknownModelError as exc:
        raise RouteRejected("unknown_model", str(exc)) from None
    if price.provider != provider:
        raise RouteRejected(
            "model_provider_mismatch",
            f"model {model!r} is served by {price.provider!r}, not {provider!r}",
        )
    status = price.status_on(today)
    if status == "retired":
        raise RouteRejected("model_retired", retired_message(model, price))
    batch_capable_here = provider in batch_capable and price.offers("batch")
    batch = _batch_allowed(request, settings, batch_capable_here, degrade=degrade)
    flex_here = provider in flex_capable and price.offers("flex")
    flex = not batch and _flex_allowed(request, settings, flex_here, degrade=degrade)
    return Route(
        provider=provider,
        model=model,
        requested_model=requested,
        path="batch" if batch else "flex" if flex else "immediate",
        tier=tier,
        reason=reason,
        deprecated=price if status == "deprecated" else None,
    )


def baseline_model(
    provider: str, default: str, use_case: str | None, baseline: BaselinePolicy | None
) -> str:
    """The baseline of an ``auto`` request on ``provider`` (module doc). A policy's model
    is checked when the policy is stored; one the catalog has dropped since is skipped."""
    chosen = baseline.model_for(use_case) if baseline is not None else None
    if chosen is not None:
        try:
            price_of(chosen)
        except UnknownModelError:
            chosen = None
    return chosen or model_for_tier(provider, "large") or default


def retired_message(model: str, price: ModelPrice) -> str:
    instead = f"; use {price.successor!r} instead" if price.successor else ""
    return f"model {model!r} was retired by {price.provider} on {price.retires}{instead}"


def _provider_of(model: str, settings: Settings) -> str:
    if model == "auto":
        return settings.default_provider
    try:
        return price_of(model).provider
    except UnknownModelError as exc:
        raise RouteRejected("unknown_model", str(exc)) from None


def _batch_allowed(
    request: RequestEvent, settings: Settings, provider_batches: bool, *, degrade: bool = False
) -> bool:
    """Batch APIs answer within minutes to 24 h: only for callers who said they can wait.

    Degraded (budget forecast over the limit), an ``immediate`` request whose own
    deadline allows a batch's turnaround goes batch too: the caller said it can wait.
    """
    if not provider_batches:
        return False
    long_deadline = (
        request.deadline_s is not None and request.deadline_s >= settings.batch_min_deadline_s
    )
    if request.priority == "batch":
        return request.deadline_s is None or long_deadline
    return degrade and long_deadline


def _flex_allowed(
    request: RequestEvent, settings: Settings, provider_flex: bool, *, degrade: bool = False
) -> bool:
    """The flex tier answers in seconds to minutes at a batch-like price, or refuses.

    For a caller who allowed a slow path (``priority: batch``, or any request while the
    budget is degraded) whose deadline is minutes rather than hours: at least
    ``flex_min_deadline_s`` (or none given), when the batch path was not taken.
    """
    if not provider_flex:
        return False
    deadline = request.deadline_s
    if request.priority == "batch":
        return deadline is None or deadline >= settings.flex_min_deadline_s
    return degrade and deadline is not None and deadline >= settings.flex_min_deadline_s
