"""``frugalflow experiments``: the A/B experiments table; ``experiments show ID``: one
experiment's analysis, computed by the same function as the admin API's
``/v1/experiments/{id}/analysis`` (and printed as the same JSON document with ``--json``).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from frugalflow.cli_reports.table import Column, render_table, to_json
from frugalflow.experiments import store
from frugalflow.experiments.analysis import analyze_stored
from frugalflow.experiments.models import Experiment, ExperimentAnalysis, MetricAnalysis

EXIT_UNKNOWN = 2

_QUERY = """
SELECT id, name, tenant_id, status, variants, created_at FROM experiments
ORDER BY tenant_id, created_at, id
"""


class ExperimentRow(BaseModel):
    id: str
    name: str
    tenant_id: str
    status: str
    variants: Any  # the jsonb as stored (usually a list of variant objects or names)
    created_at: datetime


async def list_experiments(conn: asyncpg.Connection) -> list[ExperimentRow]:
    return [
        ExperimentRow(
            id=r["id"],
            name=r["name"],
            tenant_id=r["tenant_id"],
            status=r["status"],
            variants=json.loads(r["variants"]) if isinstance(r["variants"], str) else r["variants"],
            created_at=r["created_at"],
        )
        for r in await conn.fetch(_QUERY)
    ]


def variant_names(variants: Any) -> str:
    if not isinstance(variants, list):
        return json.dumps(variants)
    names = [
        str(v.get("name") or v.get("id") or json.dumps(v)) if isinstance(v, dict) else str(v)
        for v in variants
    ]
    return ", ".join(names) or "-"


def render_experiments(rows: list[ExperimentRow]) -> str:
    if not rows:
        return "No experiments."
    return render_table(
        [Column("id"), Column("name"), Column("tenant"), Column("status"), Column("variants")],
        [[r.id, r.name, r.tenant_id, r.status, variant_names(r.variants)] for r in rows],
    )


async def show_experiment(
    conn: asyncpg.Connection, experiment_id: str, *, min_sample: int, as_json: bool
) -> int:
    """Print the analysis; exit 2 when there is no such experiment."""
    experiment = await store.get(conn, experiment_id)
    if experiment is None:
        print(f"frugalflow: no experiment {experiment_id!r}", file=sys.stderr)
        return EXIT_UNKNOWN
    analysis = await analyze_stored(conn, experiment, min_sample=min_sample)
    print(to_json(analysis) if as_json else render_analysis(experiment, analysis))
    return 0


def render_analysis(experiment: Experiment, analysis: ExperimentAnalysis) -> str:
    met = "met" if analysis.sample_size_met else "not met"
    out = [
        f"Experiment {experiment.id} ({experiment.name}), tenant {experiment.tenant}, "
        f"{experiment.status}",
        f"control: {analysis.control}; minimum sample {analysis.min_sample} impressions per "
        f"variant ({met}); alpha {analysis.alpha}",
    ]
    for metric in analysis.metrics:
        out += ["", f"{metric.metric} ({metric.test}), winner: {metric.winner or '-'}"]
        out.append(_metric_table(metric))
    return "\n".join(out)


def _metric_table(metric: MetricAnalysis) -> str:
    is_rate = metric.metric != "satisfaction"
    columns = [
        Column("variant"),
        Column("n", "int"),
        Column("rate", "pct") if is_rate else Column("mean", "num"),
        Column("lift", "pct"),
        Column("p-value", "num"),
        Column("significant"),
    ]
    rows = [
        [
            v.variant,
            v.n,
            None if v.rate is None else (v.rate * 100 if is_rate else f"{v.rate:.3f}"),
            None if v.lift is None else v.lift * 100,
            None if v.p_value is None else f"{v.p_value:.4f}",
            "yes" if v.significant else "no",
        ]
        for v in metric.variants
    ]
    return render_table(columns, rows)
