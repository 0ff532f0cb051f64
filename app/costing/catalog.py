"""The pricing catalog, loaded from ``catalog.yaml`` (package data).

An unknown model is a configuration error (``UnknownModelError``), never a silent $0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

import yaml

PER_TOKEN = Decimal(1_000_000)


class UnknownModelError(KeyError):
    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.model = model

    def __str__(self) -> str:
        return f"model {self.model!r} is not in the pricing catalog"


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


@cache
def catalog() -> dict[str, ModelPrice]:
    text = resources.files("app.costing").joinpath("catalog.yaml").read_text()
    raw = yaml.safe_load(text)["models"]
    return {
        name: ModelPrice(
            model=name,
            provider=entry["provider"],
            input=Decimal(entry["input"]) / PER_TOKEN,
            output=Decimal(entry["output"]) / PER_TOKEN,
            cache_write_5m=Decimal(entry["cache_write_5m"]) / PER_TOKEN,
            cache_write_1h=Decimal(entry["cache_write_1h"]) / PER_TOKEN,
            cache_read=Decimal(entry["cache_read"]) / PER_TOKEN,
            batch_discount=Decimal(entry["batch_discount"]),
            min_cacheable_tokens=int(entry["min_cacheable_tokens"]),
            context_window=int(entry["context_window"]),
        )
        for name, entry in raw.items()
    }


def price_of(model: str) -> ModelPrice:
    try:
        return catalog()[model]
    except KeyError:
        raise UnknownModelError(model) from None
