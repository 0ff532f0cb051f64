"""Deterministic variant assignment.

``sha256(experiment_id NUL user_id)``: its first 8 bytes as an integer / 2**64 is a point
in [0, 1) that depends only on the pair, so a user keeps their variant across requests,
workers and restarts, and different experiments split users independently. The point
falls into the variant whose share of the cumulative weights covers it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, TypeVar


class Weighted(Protocol):
    @property
    def weight(self) -> float: ...


V = TypeVar("V", bound=Weighted)


def bucket(experiment_id: str, user_id: str) -> float:
    """The pair's point in [0, 1)."""
    digest = hashlib.sha256(f"{experiment_id}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment_id: str, user_id: str, variants: Sequence[V]) -> V:
    """The variant ``user_id`` sees in ``experiment_id`` (weights need not sum to 1)."""
    if not variants:
        raise ValueError("an experiment needs at least one variant")
    total = sum(v.weight for v in variants)
    if total <= 0 or any(v.weight < 0 for v in variants):
        raise ValueError("variant weights must be >= 0 with a positive sum")
    point = bucket(experiment_id, user_id) * total
    cumulative = 0.0
    for variant in variants:
        cumulative += variant.weight
        if point < cumulative:
            return variant
    # float rounding at the very top of the range: the last variant that has a share
    return next(v for v in reversed(variants) if v.weight > 0)
