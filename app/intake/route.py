"""Choose provider, model and path for a valid request.

``model: "auto"`` goes to the router (``app.policy.router``) when intake passes one; the
baseline of an auto-routed request is priced on the provider's default model, so the
``routing`` lever shows what the router saved (or cost) against it. Under budget
degradation (forecast over the monthly limit) a request that allows a long deadline is
moved to the batch path even when it asked for ``immediate``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from app.costing.catalog import UnknownModelError, price_of
from app.events import RequestEvent
from app.policy.models import RouteChoice
from app.settings import Settings

Router = Callable[[str], RouteChoice | None]  # provider → choice (None: use the default)


@dataclass(frozen=True, slots=True)
class Route:
    provider: str
    model: str
    requested_model: str
    path: str  # "immediate" | "batch"
    tier: str | None = None
    reason: str = "requested"


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
    """The model ``"auto"`` stands for on ``provider`` before routing (None: no default)."""
    field = AUTO_MODEL.get(provider)
    return str(getattr(settings, field)) if field else None


def choose_route(
    request: RequestEvent,
    settings: Settings,
    batch_capable: AbstractSet[str],
    *,
    router: Router | None = None,
    degrade: bool = False,
) -> Route:
    provider = request.provider or _provider_of(request.model, settings)
    requested, reason, tier = request.model, "requested", None
    if request.model == "auto":
        default = default_model(settings, provider)
        if default is None:
            raise RouteRejected(
                "model_required", f"provider {provider!r} has no default model: name one"
            )
        requested = default
        choice = router(provider) if router is not None else None
        model, reason = (choice.model, choice.reason) if choice else (requested, "default")
        tier = choice.tier if choice else None
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
    batch = _batch_allowed(request, settings, provider in batch_capable, degrade=degrade)
    return Route(
        provider=provider,
        model=model,
        requested_model=requested,
        path="batch" if batch else "immediate",
        tier=tier,
        reason=reason,
    )


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
