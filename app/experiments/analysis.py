"""Compare every variant of an experiment with its control (the first variant).

Per variant: impressions, adoptions, conversions and satisfaction scores, read from
``outcomes``. Conversion and adoption rates are per impression (counts above the
impressions are capped at them) and tested with the two-proportion z-test; satisfaction
means with Welch's t-test (see ``stats``). A variant's result is ``significant`` when
``p < alpha`` *and* both it and the control have at least ``min_sample`` impressions
(and two or more scores for satisfaction). A metric's ``winner`` is the significant
variant with the best positive lift over the control, else none: a variant that is only
significantly *worse* than the control does not make the control a winner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from frugalflow.experiments import store
from frugalflow.experiments.models import (
    Experiment,
    ExperimentAnalysis,
    MetricAnalysis,
    VariantCounts,
    VariantResult,
)
from frugalflow.experiments.stats import two_proportion_z, welch_t
from frugalflow.reports.rollups import Conn

ALPHA = 0.05
DEFAULT_MIN_SAMPLE = 100


def analyze(
    experiment: Experiment,
    counts: Mapping[str, Mapping[str, int]],
    scores: Mapping[str, Sequence[float]],
    *,
    min_sample: int = DEFAULT_MIN_SAMPLE,
    alpha: float = ALPHA,
) -> ExperimentAnalysis:
    """``counts``: variant → kind → events; ``scores``: variant → satisfaction values."""
    names = [v.name for v in experiment.variants]
    table = [_counts(name, counts.get(name, {}), scores.get(name, ())) for name in names]
    enough = {c.variant: c.impressions >= min_sample for c in table}
    metrics = [
        _rates("conversion", table, enough, alpha),
        _rates("adoption", table, enough, alpha),
        _satisfaction(table, scores, enough, alpha),
    ]
    return ExperimentAnalysis(
        experiment_id=experiment.id,
        control=names[0],
        min_sample=min_sample,
        alpha=alpha,
        sample_size_met=all(enough.values()),
        counts=table,
        metrics=metrics,
    )


async def analyze_stored(
    conn: Conn, experiment: Experiment, *, min_sample: int = DEFAULT_MIN_SAMPLE
) -> ExperimentAnalysis:
    """The analysis of the outcomes stored for ``experiment`` (admin API and CLI)."""
    counts, scores = await store.outcome_counts(conn, experiment.id)
    return analyze(experiment, counts, scores, min_sample=min_sample)


def _counts(name: str, kinds: Mapping[str, int], values: Sequence[float]) -> VariantCounts:
    return VariantCounts(
        variant=name,
        impressions=kinds.get("impression", 0),
        adoptions=kinds.get("adoption", 0),
        conversions=kinds.get("conversion", 0),
        satisfaction_n=len(values),
        satisfaction_mean=sum(values) / len(values) if values else None,
    )


def _rates(
    metric: str, table: list[VariantCounts], enough: Mapping[str, bool], alpha: float
) -> MetricAnalysis:
    def successes(c: VariantCounts) -> int:
        return min(c.conversions if metric == "conversion" else c.adoptions, c.impressions)

    control = table[0]
    control_rate = successes(control) / control.impressions if control.impressions else None
    results = [VariantResult(variant=control.variant, n=control.impressions, rate=control_rate,
                             lift=None, p_value=None, significant=False)]  # fmt: skip
    for c in table[1:]:
        rate = successes(c) / c.impressions if c.impressions else None
        p_value = None
        if c.impressions and control.impressions:
            p_value = two_proportion_z(
                successes(control), control.impressions, successes(c), c.impressions
            ).p_value
        results.append(_result(c.variant, c.impressions, rate, control_rate, p_value,
                               enough[c.variant] and enough[control.variant], alpha))  # fmt: skip
    return MetricAnalysis(
        metric=metric,  # type: ignore[arg-type]
        test="two_proportion_z",
        variants=results,
        winner=_winner(results),
    )


def _satisfaction(
    table: list[VariantCounts],
    scores: Mapping[str, Sequence[float]],
    enough: Mapping[str, bool],
    alpha: float,
) -> MetricAnalysis:
    control = table[0]
    base = list(scores.get(control.variant, ()))
    results = [VariantResult(variant=control.variant, n=len(base), rate=control.satisfaction_mean,
                             lift=None, p_value=None, significant=False)]  # fmt: skip
    for c in table[1:]:
        values = list(scores.get(c.variant, ()))
        testable = len(values) >= 2 and len(base) >= 2
        p_value = welch_t(base, values).p_value if testable else None
        results.append(_result(c.variant, len(values), c.satisfaction_mean,
                               control.satisfaction_mean, p_value,
                               testable and enough[c.variant] and enough[control.variant],
                               alpha))  # fmt: skip
    return MetricAnalysis(
        metric="satisfaction", test="welch_t", variants=results, winner=_winner(results)
    )


def _result(
    name: str,
    n: int,
    rate: float | None,
    control_rate: float | None,
    p_value: float | None,
    sample_met: bool,
    alpha: float,
) -> VariantResult:
    lift = None
    if rate is not None and control_rate:
        lift = (rate - control_rate) / abs(control_rate)
    return VariantResult(
        variant=name,
        n=n,
        rate=rate,
        lift=lift,
        p_value=p_value,
        significant=sample_met and p_value is not None and p_value < alpha,
    )


def _winner(results: list[VariantResult]) -> str | None:
    better = [r for r in results[1:] if r.significant and r.lift is not None and r.lift > 0]
    return max(better, key=lambda r: (r.lift or 0.0, r.variant)).variant if better else None
