"""``frugalflow bench memory``: RSS sampled over a steady batch-path run, summarised so a
flat (or growing) worker shows; and the summary's arithmetic on known samples."""

from __future__ import annotations

import pytest

from frugalflow.bench.measure import MIB, ProcessUsage, Sample
from frugalflow.bench.memory import MemoryRun, _render, flatness, table_ttls
from frugalflow.bench.report import BenchReport
from frugalflow.infra.process import is_listening
from frugalflow.settings import load_settings
from tests.bench.support import rows, run_json


def test_flatness_of_known_series() -> None:
    flat = flatness([Sample(float(t), 100 * MIB) for t in range(9)])
    assert (flat.growth, flat.growth_percent, flat.slope_mib_per_min) == (0, 0.0, 0.0)
    # Start-up growth in the first third does not count in the slope.
    warming = [Sample(0.0, 50 * MIB), Sample(1.0, 80 * MIB), Sample(2.0, 100 * MIB)]
    steady = [Sample(float(t), 100 * MIB + t * MIB) for t in range(3, 9)]  # +1 MiB/s
    growing = flatness(warming + steady)
    assert growing.slope_mib_per_min == pytest.approx(60.0)
    assert growing.first_third_peak == 100 * MIB and growing.last_third_peak == 108 * MIB
    with pytest.raises(ValueError):
        flatness(warming[:2])


def _rendered(wall_s: float, broker: str) -> BenchReport:
    samples = [Sample(float(t), 100 * MIB) for t in range(int(wall_s))]
    report = BenchReport("memory", {"broker": broker}, {})
    run = MemoryRun(sent=6000, answered=6000, usage=ProcessUsage(wall_s, 1.0, 100 * MIB, samples))
    _render(report, run, rate=100.0)  # 60 s of traffic
    return report


def test_a_run_that_falls_behind_says_its_rss_holds_a_backlog() -> None:
    kept_up = _rendered(64.0, "tansu")
    assert kept_up.notes == []
    summary = {row[0]: row[1] for row in kept_up.sections[0].rows}
    assert summary["last answer s after the traffic ended"] == 4.0
    behind = _rendered(90.0, "tansu")
    assert len(behind.notes) == 1 and "30 s of backlog" in behind.notes[0]
    assert "--broker apache-kafka" in behind.notes[0]
    assert "--broker" not in _rendered(90.0, "kafka").notes[0]  # already on Kafka


def test_the_run_takes_one_ttl_for_both_tables_or_the_configured_ones() -> None:
    configured = load_settings(dedupe_ttl_s=7200, batch_membership_ttl_s=3600)
    assert table_ttls(configured, None) == {
        "FRUGALFLOW_DEDUPE_TTL_S": "7200", "FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S": "3600",
    }  # fmt: skip
    assert set(table_ttls(configured, 2.5).values()) == {"2.5"}


def test_memory_bench_samples_the_worker_until_every_answer(
    bench_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries expire during the run: pruning under traffic loses no answer.
    monkeypatch.setenv("FRUGALFLOW_DEDUPE_TTL_S", "2")
    monkeypatch.setenv("FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S", "1")
    doc = run_json(capsys, "memory", "--duration", "5", "--rate", "20", "--interval", "0.5")
    assert doc["complete"] is True
    assert (doc["parameters"]["dedupe TTL"], doc["parameters"]["batch membership TTL"]) == (
        "2 s", "1 s",
    )  # fmt: skip
    figures = {r["figure"]: r["value"] for r in rows(doc, "Worker RSS")}
    assert figures["requests sent"] == figures["requests answered"] == 100
    assert figures["samples"] >= 10  # 0.5 s apart over at least the 5 s of traffic
    first, last = figures["peak MiB, first third"], figures["peak MiB, last third"]
    assert first > 0 and figures["growth MiB (last - first third peak)"] == pytest.approx(
        last - first, abs=0.11
    )
    series = rows(doc, "RSS over the run")
    assert 3 <= len(series) <= 13
    assert [r["at s"] for r in series] == sorted(r["at s"] for r in series)


@pytest.mark.parametrize("broker", ["apache-kafka", "tansu"])
def test_the_bench_runs_on_the_broker_asked_for(
    broker: str, bench_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # bench_env sets KAFKA_BOOTSTRAP_SERVERS: both choices must win over it.
    doc = run_json(capsys, "memory", "--duration", "3", "--rate", "20", "--broker", broker)
    assert doc["complete"] is True
    described = doc["parameters"]["broker"]
    if broker == "tansu":
        assert described == "tansu"
    else:
        assert described.startswith("apache-kafka (jars, started for this run at 127.0.0.1:")
        port = int(described.rsplit(":", 1)[1].rstrip(")"))
        assert not is_listening("127.0.0.1", port)  # stopped with the run
