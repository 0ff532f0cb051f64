"""Model tiers: which model serves a tier on a provider, and same-tier alternates.

A tier (``small`` | ``medium`` | ``large``) is a capability class set per model in the
pricing catalog (``tier:``; see the comment at the top of app/costing/catalog.yaml for
why each model sits where it does). A model past its ``deprecated`` date (or marked
``routable: false``) stays priced but is never chosen here.

Which model serves ``tier`` on ``provider`` (:func:`model_for_tier`), first match wins:

1. the tenant's ``RouterPolicy.tier_models[provider][tier]``, verbatim (validated when the
   policy is stored, see :func:`tier_models_problems`);
2. a ``preferred`` model of that provider and tier: the deployment's default models
   (:func:`deployment_defaults`), so the model an operator chose as the default for a
   provider is also what its tier routes to;
3. the catalog's cheapest routable model of that provider and tier, by list input +
   output price per token; on a tie the newer model (``effective``), then the id.

Named OpenAI-compatible providers have tiered models too (app/costing/named_prices.py):
Cerebras' from their catalog entries, OpenRouter's from the vendor model each one is
(``openrouter/openai/gpt-5.4`` is large like ``gpt-5.4``), any other provider's from the
``tier`` its ``FRUGALFLOW_OPENAI_COMPATIBLE`` entry gives a model. So ``model: "auto"``
routes on them and :func:`alternates` offers them once they are configured.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, cast

from frugalflow.costing.catalog import ModelPrice, UnknownModelError, price_of, priced_models
from frugalflow.policy.models import TIERS, Tier

if TYPE_CHECKING:
    from frugalflow.settings import Settings

# provider → tier → model, as in ``RouterPolicy.tier_models`` (plain str keys accepted too).
TierModels = Mapping[str, Mapping[Tier, str]] | Mapping[str, Mapping[str, str]]


def tier_of(model: str) -> Tier | None:
    """The catalog tier of ``model`` (an id or alias); None when unknown or untiered."""
    try:
        return price_of(model).tier
    except UnknownModelError:
        return None


def cheaper(tier: Tier) -> Tier:
    """One tier down; ``small`` stays ``small``."""
    return TIERS[max(TIERS.index(tier) - 1, 0)]


def dearer(tier: Tier) -> Tier:
    """One tier up; ``large`` stays ``large``."""
    return TIERS[min(TIERS.index(tier) + 1, len(TIERS) - 1)]


def deployment_defaults(settings: Settings) -> tuple[str, ...]:
    """The deployment's default model per provider, to pass as ``preferred``."""
    return (settings.default_model, settings.default_openai_model, settings.default_gemini_model)


def _price_key(price: ModelPrice) -> tuple[object, ...]:
    return (price.input + price.output, -price.effective.toordinal(), price.model)


def today() -> date:
    return datetime.now(UTC).date()


def routable_models(provider: str, tier: Tier, day: date | None = None) -> list[ModelPrice]:
    """The provider's models of ``tier`` the router may choose on ``day``, cheapest first."""
    on = day or today()
    found = [
        p
        for p in priced_models().values()
        if p.provider == provider and p.tier == tier and p.routable_on(on)
    ]
    return sorted(found, key=_price_key)


def model_for_tier(
    provider: str,
    tier: Tier,
    overrides: TierModels | None = None,
    *,
    preferred: Iterable[str] = (),
) -> str | None:
    """The model serving ``tier`` on ``provider`` (module doc), or None when none does."""
    chosen = (overrides or {}).get(provider, {}).get(tier)
    if chosen:
        return chosen
    for model in preferred:
        try:
            price = price_of(model)
        except UnknownModelError:
            continue
        if price.provider == provider and price.tier == tier and price.routable_on(today()):
            return model
    candidates = routable_models(provider, tier)
    return candidates[0].model if candidates else None


def nearest_model(
    provider: str,
    tier: Tier,
    overrides: TierModels | None = None,
    *,
    preferred: Iterable[str] = (),
) -> tuple[Tier, str] | None:
    """``model_for_tier``, or when the provider has no model of ``tier`` the nearest tier.

    Dearer tiers are tried before cheaper ones: a request judged to need a medium model
    is not served by a small one just because the provider has no medium (Gemini).
    """
    index = TIERS.index(tier)
    order = [tier, *TIERS[index + 1 :], *reversed(TIERS[:index])]
    wanted = tuple(preferred)
    for candidate in order:
        model = model_for_tier(provider, candidate, overrides, preferred=wanted)
        if model is not None:
            return candidate, model
    return None


def alternates(provider: str, model: str, available: Collection[str]) -> list[tuple[str, str]]:
    """Same-tier stand-ins for ``model`` when it (or its provider) cannot serve.

    Other available providers first (by name; each one's models cheapest first), then the
    other models of the same tier on ``provider`` (cheapest first). Never ``model`` itself
    (nor one of its aliases); empty when ``model`` has no tier.
    """
    try:
        price = price_of(model)
    except UnknownModelError:
        return []
    if price.tier is None:
        return []
    found: list[tuple[str, str]] = []
    for other in sorted(set(available) - {provider}):
        found.extend((other, p.model) for p in routable_models(other, price.tier))
    found.extend(
        (provider, p.model) for p in routable_models(provider, price.tier) if p.model != price.model
    )
    return found


def tier_models_problems(tier_models: TierModels) -> list[str]:
    """Why a ``RouterPolicy.tier_models`` mapping cannot be used; empty when it can.

    Each model must be priced (a local ``ollama/…`` model costs $0) and served by the
    provider it is listed under. Its catalog tier may differ: the tenant decides what a tier means.
    """
    problems: list[str] = []
    entries = cast(Mapping[str, Mapping[str, str]], tier_models)
    for provider, by_tier in sorted(entries.items()):
        for tier, model in sorted(by_tier.items()):
            if tier not in TIERS:
                problems.append(f"{provider}.{tier}: tier must be one of {', '.join(TIERS)}")
                continue
            try:
                served_by = price_of(model).provider
            except UnknownModelError:
                problems.append(f"{provider}.{tier}: model {model!r} is not in the catalog")
                continue
            if served_by != provider:
                problems.append(
                    f"{provider}.{tier}: model {model!r} is served by {served_by!r}, "
                    f"not {provider!r}"
                )
    return problems
