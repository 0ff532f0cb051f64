"""Choose provider, model and path for a valid request (v0: no router, no budgets yet)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from app.costing.catalog import UnknownModelError, price_of
from app.events import RequestEvent
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Route:
    provider: str
    model: str
    requested_model: str
    path: str  # "immediate" | "batch"


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


def choose_route(
    request: RequestEvent, settings: Settings, batch_capable: AbstractSet[str]
) -> Route:
    provider = request.provider or _provider_of(request.model, settings)
    if request.model != "auto":
        model = request.model
    elif provider in AUTO_MODEL:
        model = getattr(settings, AUTO_MODEL[provider])
    else:
        raise RouteRejected(
            "model_required", f"provider {provider!r} has no default model: name one"
        )
    try:
        price = price_of(model)
    except UnknownModelError as exc:
        raise RouteRejected("unknown_model", str(exc)) from None
    if price.provider != provider:
        raise RouteRejected(
            "model_provider_mismatch",
            f"model {model!r} is served by {price.provider!r}, not {provider!r}",
        )
    return Route(
        provider=provider,
        model=model,
        requested_model=model,  # the router (issue 5) makes these differ
        path="batch"
        if _batch_allowed(request, settings, provider in batch_capable)
        else "immediate",
    )


def _provider_of(model: str, settings: Settings) -> str:
    if model == "auto":
        return settings.default_provider
    try:
        return price_of(model).provider
    except UnknownModelError as exc:
        raise RouteRejected("unknown_model", str(exc)) from None


def _batch_allowed(request: RequestEvent, settings: Settings, provider_batches: bool) -> bool:
    """Batch APIs answer within minutes to 24 h: only for callers who said they can wait."""
    if request.priority != "batch" or not provider_batches:
        return False
    return request.deadline_s is None or request.deadline_s >= settings.batch_min_deadline_s
