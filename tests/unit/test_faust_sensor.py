"""The cached monitor exports exactly what faust-streaming's PrometheusMonitor exports."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry

from frugalflow.faust_sensor import CachedPrometheusMonitor

# Histograms and latencies depend on the clock; everything else must match exactly.
TIMED = ("latency", "runtime")


class _Owner:
    pass


class _Stream:  # the monitor keeps weak references to streams and their task owners
    def __init__(self, topic: str) -> None:
        self.shortlabel, self.task_owner = f"Stream: Topic: {topic}", _Owner()


def _drive(monitor: PrometheusMonitor) -> None:
    streams = [_Stream("llm.requests"), _Stream("llm.responses")]
    tables = [SimpleNamespace(name=n) for n in ("intake-seen", "budget-ledger")]
    for i in range(30):
        tp = TP(f"llm.t{i % 3}", i % 4)
        monitor.on_message_in(tp, i, SimpleNamespace(time_in=None))  # type: ignore[arg-type]
        state = monitor.on_stream_event_in(tp, i, streams[i % 2], None)  # type: ignore[arg-type]
        table: Any = tables[i % 2]
        monitor.on_table_get(table, "k")
        monitor.on_table_set(table, "k", "v")
        if i % 5 == 0:
            monitor.on_table_del(table, "k")
        monitor.on_send_initiated(None, f"llm.out{i % 2}", None, 1, 1)  # type: ignore[arg-type]
        monitor.on_stream_event_out(tp, i, streams[i % 2], None, state)  # type: ignore[arg-type]


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[Any, ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in registry.collect()
        for s in metric.samples
        if not any(word in s.name for word in TIMED) and not s.name.endswith("_created")
    }


def test_same_metrics_as_faust_prometheus_monitor() -> None:
    stock, cached = CollectorRegistry(), CollectorRegistry()
    _drive(PrometheusMonitor(metrics=FaustMetrics.create(stock, "ff")))
    _drive(CachedPrometheusMonitor(metrics=FaustMetrics.create(cached, "ff")))
    expected = _samples(stock)
    assert expected == _samples(cached)
    assert expected[("ff_topic_messages_sent_total", (("topic", "topic.llm.out0"),))] == 15
    assert expected[("ff_messages_received_per_topic_total", (("topic", "llm.t0"),))] == 10
