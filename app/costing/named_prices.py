"""Prices of the named OpenAI-compatible providers' models: ``<name>/<model>``.

The providers are the entries of app/providers/compatible.py (``openrouter``, ``cerebras``,
``ollama`` and those of ``FRUGALFLOW_OPENAI_COMPATIBLE``). A model of one is priced by,
first match wins:

1. the price its entry gives for the model (``models.<model>.input/output``): the
   deployment said what it pays, so this wins over the catalog;
2. the catalog's entry of the whole id (``cerebras/gpt-oss-120b`` is one; the pricing
   override file may add others, e.g. ``ollama/llama3.2`` at the cost of its GPU time);
3. for a ``vendor_models`` provider (OpenRouter), the vendor's catalog model at its
   standard list price: ``openrouter/anthropic/claude-sonnet-4-6`` (or OpenRouter's own
   ``…/claude-sonnet-4.6``) costs what ``claude-sonnet-4-6`` costs, with its tier and life
   cycle, standard mode only: there is no batch path through a gateway;
4. the entry's ``default_price``;
5. $0 for a ``free`` provider (a local endpoint: Ollama, vLLM);

else it is unknown (``unknown_model``), never $0. A ``tier`` in the entry's ``models``
is the router's tier for that model, whatever priced it.

The entries are read from ``FRUGALFLOW_OPENAI_COMPATIBLE`` when the catalog loads (the
worker's settings validate the same variable first), so ``reload_catalog`` reads them
again. A ``models`` entry that nothing prices is a configuration error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from frugalflow.costing.catalog_parse import PricingConfigError
from frugalflow.costing.rates import LongContext, ModelPrice, Rates
from frugalflow.policy.models import Tier
from frugalflow.providers.compatible import (
    CompatibleProvider,
    EntryError,
    ModelSpec,
    Price,
    effective_entries,
    parse_entries,
)
from frugalflow.providers.vendor_ids import VENDORS, catalog_candidates, gateway_id, split

OPENAI_COMPATIBLE_ENV = "FRUGALFLOW_OPENAI_COMPATIBLE"
UNDATED = date(1970, 1, 1)  # a settings price has no publication date


@dataclass(frozen=True, slots=True)
class NamedPrices:
    entries: Mapping[str, CompatibleProvider]
    explicit: Mapping[str, ModelPrice]  # ids the entries' ``models`` name (steps 1, tiers)
    vendor: Mapping[str, ModelPrice]  # step 3, by FrugalFlow's id (the catalog's spelling)
    models: Mapping[str, ModelPrice]  # the catalog it was built on
    aliases: Mapping[str, str]

    def first(self, model: str) -> ModelPrice | None:
        """The price that wins over the catalog: a model the provider's entry names."""
        return self.explicit.get(model)

    def after_catalog(self, model: str) -> ModelPrice | None:
        """Steps 3-5 for an id the catalog does not know; None: unknown."""
        name, slash, rest = model.partition("/")
        entry = self.entries.get(name)
        if entry is None or not slash or not rest:
            return None
        if entry.vendor_models:
            found = self._vendor_price(entry, rest)
            if found is not None:
                return found
        if entry.default_price is not None:
            note = f"the default price of {name!r} in {OPENAI_COMPATIBLE_ENV}"
            return settings_price(model, name, entry.default_price, None, note)
        if entry.free:
            return free_price(model, name, None)
        return None

    def routable(self) -> dict[str, ModelPrice]:
        """Every model of a named provider the router may consider (by its tier)."""
        return {**self.vendor, **self.explicit}

    def _vendor_price(self, entry: CompatibleProvider, vendor_model: str) -> ModelPrice | None:
        parts = split(vendor_model)
        if parts is None:
            return None
        vendor, name = parts
        for candidate in catalog_candidates(vendor, name):
            canonical = candidate if candidate in self.models else self.aliases.get(candidate)
            price = self.models.get(canonical) if canonical else None
            if price is not None and price.provider == VENDORS[vendor]:
                return self.vendor.get(f"{entry.prefix}{gateway_id(price.provider, price.model)}")
        return None


def settings_price(
    model: str, provider: str, price: Price, tier: Tier | None, note: str
) -> ModelPrice:
    listed = {"input": price.input, "output": price.output}
    if price.cache_read is not None:
        listed["cache_read"] = price.cache_read
    return ModelPrice(
        model=model, provider=provider, modes={"standard": Rates.per_million(listed)},
        min_cacheable_tokens=0, context_window=1, effective=UNDATED, tier=tier, routable=True,
        note=note,
    )  # fmt: skip


def free_price(model: str, provider: str, tier: Tier | None) -> ModelPrice:
    nothing = Price(input=Decimal(0), output=Decimal(0))
    return settings_price(model, provider, nothing, tier, "local model: no per-token price")


def vendor_price(entry: CompatibleProvider, price: ModelPrice) -> ModelPrice:
    """``price`` (a vendor's catalog model) through the gateway ``entry``: standard only."""
    long = price.long_context
    standard_long = long.modes.get("standard") if long is not None else None
    successor = price.successor
    return replace(
        price,
        model=f"{entry.prefix}{gateway_id(price.provider, price.model)}",
        provider=entry.name,
        modes={"standard": price.standard},
        long_context=LongContext(long.above_tokens, {"standard": standard_long})
        if long is not None and standard_long is not None
        else None,
        aliases=(),
        successor=f"{entry.prefix}{gateway_id(price.provider, successor)}" if successor else None,
        note=f"{price.model} through {entry.name}, at {price.provider}'s standard list price",
    )


def _spec_price(
    entry: CompatibleProvider, model: str, spec: ModelSpec, named: NamedPrices
) -> ModelPrice:
    full = f"{entry.prefix}{model}"
    if spec.price is not None:
        note = f"the price {entry.name!r} gives it in {OPENAI_COMPATIBLE_ENV}"
        return settings_price(full, entry.name, spec.price, spec.tier, note)
    canonical = full if full in named.models else named.aliases.get(full)
    found = named.models.get(canonical) if canonical else None
    if found is None:
        found = named.after_catalog(full)
    if found is None:
        raise PricingConfigError(
            OPENAI_COMPATIBLE_ENV, full, "models",
            f"provider {entry.name!r} prices it nowhere: give 'input' and 'output', a "
            "'default_price', or mark the provider 'free'",
        )  # fmt: skip
    if found.provider != entry.name:
        raise PricingConfigError(
            OPENAI_COMPATIBLE_ENV, full, "models",
            f"the catalog has it as a model of {found.provider!r}, not {entry.name!r}",
        )  # fmt: skip
    return replace(found, tier=spec.tier) if spec.tier is not None else found


def load_named(models: Mapping[str, ModelPrice], aliases: Mapping[str, str]) -> NamedPrices:
    """The named providers' pricing on top of the loaded catalog (``models``, ``aliases``)."""
    try:
        listed = parse_entries(os.environ.get(OPENAI_COMPATIBLE_ENV, ""))
    except EntryError as exc:
        raise PricingConfigError(OPENAI_COMPATIBLE_ENV, None, None, str(exc)) from None
    entries = effective_entries(listed)
    gateways = [entry for entry in entries.values() if entry.vendor_models]
    derived = [
        vendor_price(entry, price)
        for entry in gateways
        for price in models.values()
        if price.provider in VENDORS.values()
    ]
    vendor = {price.model: price for price in derived}
    named = NamedPrices(entries, {}, vendor, models, aliases)
    explicit = {
        f"{entry.prefix}{model}": _spec_price(entry, model, spec, named)
        for entry in entries.values()
        for model, spec in entry.models.items()
    }
    return replace(named, explicit=explicit)
