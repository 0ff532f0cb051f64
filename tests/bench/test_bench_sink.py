"""``frugalflow bench sink``: every synthetic cost event lands in Postgres, through
``CostStore`` and through the real sink agent, and only in the bench's scratch schema."""

from __future__ import annotations

import pytest

from frugalflow.bench.sink import synthetic_events
from frugalflow.cli import main
from tests.bench.support import bench_schemas, by_first_column, rows, run_json


def test_synthetic_events_are_unique_and_spread() -> None:
    events = synthetic_events("run", 300)
    assert len({e.event_id for e in events}) == 300
    assert len({e.tenant_id for e in events}) == 8
    assert len({e.occurred_at.date() for e in events}) >= 28  # spread over ~30 days
    assert all(e.savings_usd.total() == e.baseline_cost_usd - e.cost_usd for e in events)


def test_sink_bench_stores_every_event_both_ways(
    bench_env: None, postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    schemas_before = bench_schemas(postgres_dsn)
    doc = run_json(
        capsys, "sink", "--events", "2000", "--batch-size", "300", "--agent-events", "500"
    )
    assert doc["complete"] is True
    paths = by_first_column(rows(doc, "Cost events into Postgres"))
    store = paths["CostStore.insert, 300 per insert"]
    assert store["events"] == store["stored"] == 2000
    elapsed = store["elapsed s"]  # printed to the millisecond: agree within that rounding
    assert 2000 / (elapsed + 0.0005) * 0.99 <= store["events/s"]
    assert store["events/s"] <= 2000 / max(elapsed - 0.0005, 1e-9) * 1.01
    assert store["insert P50 ms"] <= store["insert P95 ms"]
    agent = paths["llm.cost-events -> sink agent"]
    assert agent["events"] == agent["stored"] == 500
    assert agent["events/s"] > 0 and agent["worker peak RSS MiB"] > 0
    assert doc["machine"]["postgres"]
    assert bench_schemas(postgres_dsn) == schemas_before


def test_sink_bench_without_the_agent_prints_a_table(
    bench_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["bench", "sink", "--events", "600", "--batch-size", "200", "--agent-events", "0"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("frugalflow bench sink\n")
    assert "events (sink agent)  skipped" in out
    line = next(x for x in out.splitlines() if x.startswith("CostStore.insert, 200 per insert"))
    assert line.split()[4:6] == ["600", "600"]  # events, stored
    assert "machine: cores " in out and out.rstrip().endswith("COMPLETE")
