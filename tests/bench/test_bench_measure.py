"""The measuring and reporting parts every bench shares."""

from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest

from frugalflow.bench.measure import (
    ProcessMeter,
    cpu_seconds,
    peak_rss_bytes,
    percentile,
    rss_bytes,
)
from frugalflow.bench.report import BenchReport
from frugalflow.cli_reports.table import Column


def test_percentile_interpolates_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert [percentile(values, p) for p in (0, 50, 100)] == [10.0, 25.0, 40.0]
    assert percentile([40.0, 10.0, 30.0, 20.0], 50) == 25.0  # order does not matter
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_process_figures_from_proc() -> None:
    pid = os.getpid()
    rss, peak = rss_bytes(pid), peak_rss_bytes(pid)
    assert rss is not None and peak is not None and 0 < rss <= peak
    assert (cpu_seconds(pid) or 0) > 0  # this interpreter has run code
    meter = ProcessMeter(pid, interval_s=0.01).start()
    sum(i * i for i in range(200_000))
    usage = meter.stop()
    assert usage.samples and usage.peak_rss == max(s.rss for s in usage.samples)
    assert usage.cpu_s is not None and usage.cpu_s >= 0 and usage.cpu_percent is not None


def test_gone_process_reads_as_unknown() -> None:
    assert cpu_seconds(2**22 + 1) is None and rss_bytes(2**22 + 1) is None


def test_report_renders_tables_and_json() -> None:
    report = BenchReport("demo", {"requests": 10, "model": "m"}, {"cores": "2"})
    table = report.section("Figures", Column("name"), Column("USD", "money"), Column("n", "int"))
    table.add("a", Decimal("0.5"), 1200)
    report.notes.append("a note")
    text = report.render()
    assert text.splitlines()[0] == "frugalflow bench demo"
    assert "Figures:" in text and "$0.500000" in text and "1,200" in text
    assert "• a note" in text and "machine: cores 2" in text and text.endswith("COMPLETE")
    doc = json.loads(report.to_json())
    assert doc["sections"]["Figures"] == [{"name": "a", "USD": "0.5", "n": 1200}]
    assert doc["parameters"] == {"requests": 10, "model": "m"} and doc["complete"] is True
