"""The statistics on known values, and the analysis with and without significance."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from frugalflow.experiments import Experiment, Variant, analyze
from frugalflow.experiments.stats import (
    normal_cdf,
    regularized_incomplete_beta,
    two_proportion_z,
    two_sided_t_p,
    welch_t,
)


def test_normal_cdf() -> None:
    assert normal_cdf(0) == 0.5
    assert normal_cdf(1.959963984540054) == pytest.approx(0.975, abs=1e-12)
    assert normal_cdf(-1) == pytest.approx(0.15865525393145707, abs=1e-12)


def test_two_proportion_z_by_hand() -> None:
    # 100/1000 vs 130/1000: pooled p = 0.115, se = sqrt(0.115 * 0.885 * 0.002) = 0.0142671,
    # z = 0.03 / 0.0142671 = 2.10274, two-sided p = erfc(2.10274 / sqrt 2) = 0.035488
    result = two_proportion_z(100, 1000, 130, 1000)
    assert result.statistic == pytest.approx(2.10274, abs=1e-5)
    assert result.p_value == pytest.approx(0.035488, abs=1e-6)
    assert two_proportion_z(130, 1000, 100, 1000).statistic == pytest.approx(-2.10274, abs=1e-5)
    assert two_proportion_z(0, 10, 0, 20).p_value == 1.0
    with pytest.raises(ValueError):
        two_proportion_z(11, 10, 1, 10)


def test_student_t_tail_against_tables() -> None:
    assert two_sided_t_p(2.0, 10) == pytest.approx(0.073388, abs=1e-6)
    assert two_sided_t_p(2.228139, 10) == pytest.approx(0.05, abs=1e-6)  # t table, 0.975
    assert two_sided_t_p(1.0, 1) == pytest.approx(0.5, abs=1e-12)  # Cauchy: 2 (1 - 3/4)
    assert two_sided_t_p(12.706205, 1) == pytest.approx(0.05, abs=1e-6)
    assert two_sided_t_p(2.042272, 30) == pytest.approx(0.05, abs=1e-6)
    assert regularized_incomplete_beta(1, 1, 0.3) == pytest.approx(0.3)  # uniform
    assert regularized_incomplete_beta(2, 3, 0.4) == pytest.approx(0.5248, abs=1e-12)


def test_welch_t_wikipedia_example() -> None:
    # Wikipedia, "Welch's t-test", example 1: t = -2.46, df = 24.99, p = 0.021
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    result = welch_t(a2, a1)
    assert result.statistic == pytest.approx(-2.4554, abs=1e-4)
    assert result.df == pytest.approx(24.9885, abs=1e-4)
    assert result.p_value == pytest.approx(0.02138, abs=1e-5)


def test_welch_uses_the_normal_above_30_df() -> None:
    a = [float(i % 7) for i in range(100)]
    b = [float(i % 7) + 0.5 for i in range(100)]
    result = welch_t(a, b)
    assert result.df is not None and result.df > 30
    assert result.p_value == pytest.approx(math.erfc(abs(result.statistic) / math.sqrt(2)))


def test_welch_degenerate_samples() -> None:
    assert welch_t([1, 1], [1, 1]).p_value == 1.0
    assert welch_t([1, 1], [2, 2]).p_value == 0.0
    with pytest.raises(ValueError):
        welch_t([1], [1, 2])


def _experiment() -> Experiment:
    return Experiment(
        id="exp-1", name="n", tenant="t", status="running", created_at=datetime.now(UTC),
        variants=[Variant(name="control", weight=1), Variant(name="cheap", weight=1)],
    )  # fmt: skip


def test_analysis_finds_a_significant_winner() -> None:
    counts = {
        "control": {"impression": 1000, "conversion": 100, "adoption": 300},
        "cheap": {"impression": 1000, "conversion": 130, "adoption": 310},
    }
    scores = {"control": [3.0, 4.0, 5.0] * 40, "cheap": [3.0, 4.0, 5.0] * 40}
    result = analyze(_experiment(), counts, scores)
    assert result.sample_size_met and result.control == "control"
    conversion, adoption, satisfaction = result.metrics
    assert conversion.winner == "cheap"
    treated = conversion.variants[1]
    assert treated.rate == pytest.approx(0.13)
    assert treated.lift == pytest.approx(0.3)
    assert treated.p_value == pytest.approx(0.035488, abs=1e-6)
    assert treated.significant
    assert conversion.variants[0].p_value is None and conversion.variants[0].lift is None
    assert adoption.winner is None and not adoption.variants[1].significant
    assert satisfaction.winner is None and satisfaction.variants[1].p_value == 1.0
    assert result.counts[1].satisfaction_mean == pytest.approx(4.0)


def test_analysis_needs_the_minimum_sample() -> None:
    counts = {
        "control": {"impression": 99, "conversion": 5},
        "cheap": {"impression": 99, "conversion": 60},
    }
    result = analyze(_experiment(), counts, {})
    conversion = result.metrics[0]
    assert conversion.variants[1].p_value is not None and conversion.variants[1].p_value < 1e-6
    assert not conversion.variants[1].significant and conversion.winner is None
    assert not result.sample_size_met
    assert analyze(_experiment(), counts, {}, min_sample=50).metrics[0].winner == "cheap"


def test_a_worse_variant_is_no_winner_and_empty_data_is_fine() -> None:
    counts = {
        "control": {"impression": 1000, "conversion": 200},
        "cheap": {"impression": 1000, "conversion": 100},
    }
    conversion = analyze(_experiment(), counts, {}).metrics[0]
    assert conversion.variants[1].significant and conversion.variants[1].lift == pytest.approx(-0.5)
    assert conversion.winner is None
    empty = analyze(_experiment(), {}, {})
    assert all(v.rate is None and v.p_value is None for m in empty.metrics for v in m.variants)
