"""The pricing catalog: ``catalog.yaml`` (package data) plus an optional override file.

An unknown model is a configuration error (``UnknownModelError``), never a silent $0.
The entry shape (service modes, long-context band, life-cycle dates) is described in
app/costing/catalog_parse.py; what the prices mean in app/costing/rates.py.

Override file
-------------
``FRUGALFLOW_PRICING_FILE`` may name a YAML file of the same shape as ``catalog.yaml``
(``frugalflow pricing import`` writes one from a LiteLLM price table)::

    models:
      claude-sonnet-4-6:          # replaces the packaged entry (negotiated price)
        provider: anthropic
        min_cacheable_tokens: 1024
        context_window: 1000000
        effective: 2026-01-01
        prices:
          standard: {input: "2.40", output: "12.00", cache_write_5m: "3.00",
                     cache_write_1h: "4.80", cache_read: "0.24"}
          batch: {input: "1.20", output: "6.00", cache_write_5m: "1.50",
                  cache_write_1h: "2.40", cache_read: "0.12"}
      my-finetune:                # adds a model
        ...
        tier: medium              # optional: lets the router pick it for that tier

Each entry is complete and replaces the packaged entry of the same name as a whole. The
packaged entry's aliases keep pointing at the model; an override may add aliases of its
own. An override that leaves out ``tier``, ``routable``, ``deprecated``, ``retires`` or
``successor`` keeps the packaged entry's values (a negotiated price does not change what
the model is for, nor when its provider retires it). A malformed entry raises
``PricingConfigError`` naming the file, the model and the field.

Named OpenAI-compatible providers
---------------------------------
Models of ``openrouter``, ``cerebras``, ``ollama`` and the providers of
``FRUGALFLOW_OPENAI_COMPATIBLE`` are ``<name>/<model>``; ``price_of`` prices them as
app/costing/named_prices.py says (their settings entry, the catalog, a gateway's vendor
model, a default price, or $0 for a local endpoint), loaded and reloaded with the catalog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path

from frugalflow.costing.catalog_parse import PricingConfigError, parse_pricing
from frugalflow.costing.named_prices import NamedPrices, load_named
from frugalflow.costing.rates import ModelPrice

PRICING_FILE_ENV = "FRUGALFLOW_PRICING_FILE"
# What an override entry that does not say keeps from the packaged entry.
KEPT_FROM_PACKAGED = ("tier", "routable", "deprecated", "retires", "successor")

__all__ = [
    "PRICING_FILE_ENV",
    "ModelPrice",
    "PricingConfigError",
    "UnknownModelError",
    "aliases",
    "canonical_model",
    "catalog",
    "parse_pricing",
    "price_of",
    "priced_models",
    "reload_catalog",
]


class UnknownModelError(KeyError):
    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.model = model

    def __str__(self) -> str:
        return f"model {self.model!r} is not in the pricing catalog"


@dataclass(frozen=True, slots=True)
class _Catalog:
    models: dict[str, ModelPrice]
    aliases: dict[str, str]  # alias -> canonical model id
    named: NamedPrices  # the named OpenAI-compatible providers' models
    priced: dict[str, ModelPrice]  # models, overlaid with the named providers' routable ones


def _build(packaged: dict[str, ModelPrice], override: dict[str, ModelPrice]) -> _Catalog:
    models = {name: _routable_by_default(price) for name, price in packaged.items()}
    for name, price in override.items():
        base = models.get(name)
        merged = tuple(dict.fromkeys((*(base.aliases if base else ()), *price.aliases)))
        if base is not None:
            kept = {f: getattr(base, f) for f in KEPT_FROM_PACKAGED if getattr(price, f) is None}
            price = replace(price, **kept)
        models[name] = replace(_routable_by_default(price), aliases=merged)
    aliases: dict[str, str] = {}
    for name, price in models.items():
        for alias in price.aliases:
            if alias in models:
                raise PricingConfigError(
                    "pricing catalog", name, "aliases", f"alias {alias!r} is also a model id"
                )
            if aliases.get(alias, name) != name:
                raise PricingConfigError(
                    "pricing catalog",
                    name,
                    "aliases",
                    f"alias {alias!r} already points at {aliases[alias]!r}",
                )
            aliases[alias] = name
    named = load_named(models, aliases)
    return _Catalog(models, aliases, named, {**models, **named.routable()})


def _routable_by_default(price: ModelPrice) -> ModelPrice:
    return price if price.routable is not None else replace(price, routable=True)


@cache
def _load() -> _Catalog:
    text = resources.files("frugalflow.costing").joinpath("catalog.yaml").read_text()
    packaged = parse_pricing(text, "catalog.yaml")
    override: dict[str, ModelPrice] = {}
    path = os.environ.get(PRICING_FILE_ENV, "").strip()
    if path:
        try:
            override_text = Path(path).read_text()
        except OSError as exc:
            raise PricingConfigError(
                path, None, None, f"{PRICING_FILE_ENV} cannot be read: {exc}"
            ) from None
        override = parse_pricing(override_text, path)
    return _build(packaged, override)


def catalog() -> dict[str, ModelPrice]:
    """Every priced model by canonical id (packaged entries plus the override file)."""
    return _load().models


def aliases() -> dict[str, str]:
    """Alias (e.g. a dated snapshot id) -> canonical model id."""
    return _load().aliases


def reload_catalog() -> dict[str, ModelPrice]:
    """Forget the cached catalog and read it again (tests, or a changed override file)."""
    _load.cache_clear()
    return catalog()


def canonical_model(model: str) -> str:
    loaded = _load()
    if model in loaded.models:
        return model
    try:
        return loaded.aliases[model]
    except KeyError:
        raise UnknownModelError(model) from None


def price_of(model: str) -> ModelPrice:
    """The price of ``model`` (a canonical id or an alias).

    A named OpenAI-compatible provider's model (``<name>/<model>``) may also be priced by
    its settings entry, through a gateway's vendor model, or at $0 on a local endpoint
    (app/costing/named_prices.py); any other unknown model is an error, never $0.
    """
    loaded = _load()
    explicit = loaded.named.first(model)
    if explicit is not None:
        return explicit
    try:
        return loaded.models[canonical_model(model)]
    except UnknownModelError:
        found = loaded.named.after_catalog(model)
        if found is None:
            raise
        return found


def priced_models() -> dict[str, ModelPrice]:
    """The catalog plus the named providers' models the router may consider (OpenRouter's
    vendor models, models given a tier in ``FRUGALFLOW_OPENAI_COMPATIBLE``)."""
    return _load().priced
