"""Deterministic, weighted assignment."""

from __future__ import annotations

from collections import Counter

import pytest

from frugalflow.experiments import Variant, assign
from frugalflow.experiments.assignment import bucket

AB = [Variant(name="control", weight=1), Variant(name="treatment", weight=1)]


def test_same_user_same_variant_every_time() -> None:
    first = [assign("exp-1", f"user-{i}", AB).name for i in range(200)]
    again = [assign("exp-1", f"user-{i}", list(AB)).name for i in range(200)]
    assert first == again


def test_known_bucket_value() -> None:
    # sha256("exp-1\x00user-1")[:8] as a big-endian integer / 2**64, computed by hand once
    assert bucket("exp-1", "user-1") == pytest.approx(0.7847342603047024, abs=1e-15)
    assert 0 <= bucket("", "") < 1


def test_experiments_split_users_independently() -> None:
    a = [assign("exp-a", f"u{i}", AB).name for i in range(2000)]
    b = [assign("exp-b", f"u{i}", AB).name for i in range(2000)]
    agree = sum(x == y for x, y in zip(a, b, strict=True)) / 2000
    assert 0.45 < agree < 0.55


@pytest.mark.parametrize("weights", [(1, 1), (1, 3), (0.7, 0.2, 0.1), (5, 0, 5)])
def test_weighted_split_within_chi_square_tolerance(weights: tuple[float, ...]) -> None:
    variants = [Variant(name=f"v{i}", weight=w) if w else _zero(f"v{i}")
                for i, w in enumerate(weights)]  # fmt: skip
    n = 10_000
    seen = Counter(assign("exp-weights", f"user-{i}", variants).name for i in range(n))
    total = sum(weights)
    chi2 = 0.0
    for v, w in zip(variants, weights, strict=True):
        expected = n * w / total
        if expected == 0:
            assert seen[v.name] == 0
            continue
        chi2 += (seen[v.name] - expected) ** 2 / expected
    # 99.9th percentile of chi-square with 1 / 2 degrees of freedom: 10.83 / 13.82
    assert chi2 < 13.82


def _zero(name: str) -> Variant:
    return Variant.model_construct(name=name, weight=0.0)


def test_bad_variants_are_refused() -> None:
    with pytest.raises(ValueError):
        assign("e", "u", [])
    with pytest.raises(ValueError):
        assign("e", "u", [_zero("a")])
