"""The Grafana dashboard is valid and built on exactly the metrics the code registers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

import frugalflow.metrics
import frugalflow.providers.circuit  # registers frugalflow_circuit_state

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "dashboards" / "frugalflow.json"

# Names PromQL uses that are not metrics: functions are recognised by their "(", these not.
PROMQL_WORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
     "and", "or", "unless", "inf", "nan"}
)  # fmt: skip
# Series names a metric type exposes (prometheus-client strips "_total" from counter families).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "unknown": ("",),
}


def load() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows hold their panels
    return out


def expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in panels(dashboard) for t in p.get("targets", []) if "expr" in t]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable.get("query")
            exprs.append(query["query"] if isinstance(query, dict) else query)
    return exprs


def metric_names(expr: str) -> set[str]:
    """Series names an expression selects (label matchers, ranges, grouping removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\$\{?\w+\}?", "", text)  # Grafana variables ($__rate_interval…)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range / subquery selectors
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        name = match.group()
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or name.lower() in PROMQL_WORDS:
            continue  # a function call or a keyword
        names.add(name)
    return names


def registered_series() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
        names.update(sample.name for sample in family.samples)
    return names


def test_dashboard_is_valid_grafana_json() -> None:
    dashboard = load()
    assert dashboard["schemaVersion"] >= 38
    assert dashboard["title"] and dashboard["uid"]
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in [panel, *panel["targets"]]:
            uid = target["datasource"]["uid"]
            assert uid in ("${DS_PROMETHEUS}", "prometheus"), panel["title"]


def test_dashboard_covers_the_required_views() -> None:
    text = " ".join(expressions(load()))
    for needed in (
        "frugalflow_cost_usd_total", "frugalflow_savings_usd_total",
        "frugalflow_cache_requests_total", "frugalflow_answer_latency_seconds_bucket",
        "frugalflow_errors_total", "frugalflow_dead_letters_total",
        "frugalflow_pending_batches", "frugalflow_budget_used_ratio",
        "frugalflow_circuit_state",
    ):  # fmt: skip
        assert needed in text
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}," in text


def test_every_expression_uses_registered_metrics() -> None:
    known = registered_series()
    used: set[str] = set()
    for expr in expressions(load()):
        assert expr.count("(") == expr.count(")"), expr
        names = metric_names(expr)
        assert names, f"no metric in {expr!r}"
        used |= names
    assert sorted(used - known) == []
    assert all(name.startswith("frugalflow_") for name in used)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (le, path) (rate(a_seconds_bucket{path="x"}[5m]))', {"a_seconds_bucket"}),
        ("histogram_quantile(0.95, sum(rate(b_bucket[$__rate_interval])))", {"b_bucket"}),
        (
            "sum(increase(c_total[24h])) / sum(increase(d_total[24h])) * 3600",
            {"c_total", "d_total"},
        ),
        ("max without (instance) (e) > bool 1", {"e"}),
    ],
)
def test_metric_name_extraction(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_counter_series_names_keep_their_total_suffix() -> None:
    known = registered_series()
    assert "frugalflow_cost_usd_total" in known
    assert "frugalflow_cost_usd" not in known  # a counter family's bare name is not a series
    assert "frugalflow_answer_latency_seconds_bucket" in known
    assert frugalflow.metrics.CACHE_REQUESTS is not None
