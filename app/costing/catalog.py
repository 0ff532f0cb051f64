"""The pricing catalog: ``catalog.yaml`` (package data) plus an optional override file.

An unknown model is a configuration error (``UnknownModelError``), never a silent $0.

Override file
-------------
``FRUGALFLOW_PRICING_FILE`` may name a YAML file of the same shape as ``catalog.yaml``::

    models:
      claude-sonnet-4-5:          # replaces the packaged entry (negotiated price)
        provider: anthropic
        input: "2.40"
        output: "12.00"
        cache_write_5m: "3.00"
        cache_write_1h: "4.80"
        cache_read: "0.24"
        batch_discount: "0.50"
        min_cacheable_tokens: 1024
        context_window: 200000
        effective: 2026-01-01
      my-finetune:                # adds a model
        ...
        tier: medium              # optional: lets the router pick it for that tier

Each entry is complete (every required field), and replaces the packaged entry of the
same name as a whole. The packaged entry's aliases keep pointing at the model; an
override may add aliases of its own. An override that leaves out ``tier`` or
``routable`` keeps the packaged entry's values (a negotiated price does not change what
the model is for).

Optional fields: ``tier`` (``small`` | ``medium`` | ``large``: the router's capability
class, see app/policy/tiers.py; a model without one is never chosen for ``model:
"auto"``), ``routable`` (``false`` for retired or deprecated snapshots: still priced, so
answers already served on them cost exactly, but never chosen by the router),
``aliases`` and ``note``. A malformed entry raises ``PricingConfigError``
naming the file, the model and the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml

from app.policy.models import TIERS, Tier

PER_TOKEN = Decimal(1_000_000)
PRICING_FILE_ENV = "FRUGALFLOW_PRICING_FILE"

PRICE_FIELDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
REQUIRED_FIELDS = (
    "provider",
    *PRICE_FIELDS,
    "batch_discount",
    "min_cacheable_tokens",
    "context_window",
    "effective",
)
OPTIONAL_FIELDS = ("aliases", "note", "tier", "routable")


class UnknownModelError(KeyError):
    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.model = model

    def __str__(self) -> str:
        return f"model {self.model!r} is not in the pricing catalog"


class PricingConfigError(ValueError):
    """A pricing file (packaged or override) has a malformed entry."""

    def __init__(self, source: str, model: str | None, field: str | None, problem: str) -> None:
        where = source
        if model is not None:
            where += f": model {model!r}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.model = model
        self.field = field


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per token (already divided by one million)."""

    model: str
    provider: str
    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    batch_discount: Decimal
    min_cacheable_tokens: int
    context_window: int
    effective: date
    aliases: tuple[str, ...] = ()
    note: str | None = None
    tier: Tier | None = None  # the router's capability class; None = never routed to
    # False = priced but never chosen by the router (retired/deprecated). ``None`` only in
    # a parsed document that did not say; the loaded catalog always holds a bool.
    routable: bool | None = None


@dataclass(frozen=True, slots=True)
class _Catalog:
    models: dict[str, ModelPrice]
    aliases: dict[str, str]  # alias -> canonical model id


def _decimal(source: str, model: str, field: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PricingConfigError(source, model, field, f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PricingConfigError(source, model, field, f"not a number: {value!r}") from None
    if not number.is_finite():
        raise PricingConfigError(source, model, field, f"not a finite number: {value!r}")
    return number


def _int(source: str, model: str, field: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingConfigError(source, model, field, f"expected an integer, got {value!r}")
    if value < minimum:
        raise PricingConfigError(source, model, field, f"must be >= {minimum}, got {value}")
    return value


def _date(source: str, model: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PricingConfigError(
        source, model, "effective", f"expected a date YYYY-MM-DD, got {value!r}"
    )


def _entry(source: str, model: str, raw: Any) -> ModelPrice:
    if not isinstance(raw, Mapping):
        raise PricingConfigError(source, model, None, "entry must be a mapping of fields")
    missing = [f for f in REQUIRED_FIELDS if f not in raw]
    if missing:
        raise PricingConfigError(source, model, missing[0], "missing required field")
    unknown = sorted(str(f) for f in raw if f not in REQUIRED_FIELDS + OPTIONAL_FIELDS)
    if unknown:
        raise PricingConfigError(source, model, unknown[0], "unknown field")

    provider = raw["provider"]
    if not isinstance(provider, str) or not provider.strip():
        raise PricingConfigError(source, model, "provider", "expected a non-empty string")

    prices: dict[str, Decimal] = {}
    for field in PRICE_FIELDS:
        value = _decimal(source, model, field, raw[field])
        if value < 0:
            raise PricingConfigError(source, model, field, f"price must be >= 0, got {value}")
        prices[field] = value / PER_TOKEN

    discount = _decimal(source, model, "batch_discount", raw["batch_discount"])
    if not 0 <= discount < 1:
        raise PricingConfigError(
            source, model, "batch_discount", f"must be in [0, 1), got {discount}"
        )

    aliases_raw = raw.get("aliases") or []
    if not isinstance(aliases_raw, list) or not all(
        isinstance(a, str) and a.strip() for a in aliases_raw
    ):
        raise PricingConfigError(source, model, "aliases", "expected a list of model ids")

    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise PricingConfigError(source, model, "note", "expected a string")

    tier = raw.get("tier")
    if tier is not None and tier not in TIERS:
        raise PricingConfigError(source, model, "tier", f"expected one of {TIERS}, got {tier!r}")

    routable = raw.get("routable")
    if routable is not None and not isinstance(routable, bool):
        raise PricingConfigError(
            source, model, "routable", f"expected true or false, got {routable!r}"
        )

    return ModelPrice(
        model=model,
        provider=provider.strip(),
        input=prices["input"],
        output=prices["output"],
        cache_write_5m=prices["cache_write_5m"],
        cache_write_1h=prices["cache_write_1h"],
        cache_read=prices["cache_read"],
        batch_discount=discount,
        min_cacheable_tokens=_int(
            source, model, "min_cacheable_tokens", raw["min_cacheable_tokens"], 0
        ),
        context_window=_int(source, model, "context_window", raw["context_window"], 1),
        effective=_date(source, model, raw["effective"]),
        aliases=tuple(a.strip() for a in aliases_raw),
        note=note.strip() if note else None,
        tier=cast(Tier | None, tier),
        routable=routable,
    )


def parse_pricing(text: str, source: str) -> dict[str, ModelPrice]:
    """Validate one pricing document (``models: {id: entry}``) into prices per model."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PricingConfigError(source, None, None, f"not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("models"), Mapping):
        raise PricingConfigError(source, None, "models", "expected a top-level 'models' mapping")
    return {str(name): _entry(source, str(name), entry) for name, entry in doc["models"].items()}


def _build(packaged: dict[str, ModelPrice], override: dict[str, ModelPrice]) -> _Catalog:
    models = {name: _routable_by_default(price) for name, price in packaged.items()}
    for name, price in override.items():
        base = models.get(name)
        kept = base.aliases if base else ()
        merged = tuple(dict.fromkeys((*kept, *price.aliases)))
        if base is not None:
            price = replace(
                price,
                tier=price.tier if price.tier is not None else base.tier,
                routable=price.routable if price.routable is not None else base.routable,
            )
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
    return _Catalog(models=models, aliases=aliases)


def _routable_by_default(price: ModelPrice) -> ModelPrice:
    return price if price.routable is not None else replace(price, routable=True)


@cache
def _load() -> _Catalog:
    text = resources.files("app.costing").joinpath("catalog.yaml").read_text()
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


LOCAL_PREFIX = "ollama/"  # local OpenAI-compatible models: ``ollama/<name>``


def price_of(model: str) -> ModelPrice:
    """The price of ``model`` (a canonical id or an alias).

    Local models (``ollama/<name>``) cost nothing unless the pricing override file names
    them (e.g. to charge GPU time); every other unknown model is an error, never $0.
    """
    try:
        return _load().models[canonical_model(model)]
    except UnknownModelError:
        if model.startswith(LOCAL_PREFIX) and len(model) > len(LOCAL_PREFIX):
            return _local_price(model)
        raise


def _local_price(model: str) -> ModelPrice:
    zero = Decimal(0)
    return ModelPrice(
        model=model, provider="ollama", input=zero, output=zero, cache_write_5m=zero,
        cache_write_1h=zero, cache_read=zero, batch_discount=zero, min_cacheable_tokens=0,
        context_window=0, effective=date(1970, 1, 1), note="local model: no per-token price",
        routable=True,
    )  # fmt: skip
