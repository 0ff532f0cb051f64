"""``frugalflow bench memory``: does the worker's RSS stay flat on a long batch-path run?

Steady traffic (``--rate`` requests/s for ``--duration`` seconds, batch priority, emulator
at zero latency) while the worker's RSS is sampled every ``--interval`` seconds, until
every answer is back. The summary puts the peak of the first third of the samples next to
the peak of the last third, and fits a line (least squares) through the samples after the
first third (start-up growth excluded): a flat worker shows a growth and a slope near 0.

The worker keeps one dedupe entry and one batch-membership entry per request for
``FRUGALFLOW_DEDUPE_TTL_S`` / ``FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S`` (48 h / 24 h by
default): a run shorter than those measures the tables filling up. ``ttl_s`` sets both
for the run (e.g. 20 s), so a run of a few minutes shows the steady state.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import linear_regression

from frugalflow.bench import workloads
from frugalflow.bench.measure import MIB, ProcessMeter, ProcessUsage, Sample, machine, mib
from frugalflow.bench.report import BenchReport
from frugalflow.bench.runner import BenchStack, bench_stack
from frugalflow.bench.throughput import MODEL, PACING
from frugalflow.bench.traffic import AnswerWatch, Outgoing, new_producer
from frugalflow.cli_reports.table import Column
from frugalflow.settings import Settings

TICK_S = 0.1  # requests go out in small groups every tick: a steady rate at any --rate
# A run that ends this much later than its traffic did not keep up: its RSS holds a backlog.
BEHIND_RATIO, BEHIND_MIN_S = 0.1, 5.0
SERIES_POINTS = 12


@dataclass(frozen=True)
class MemoryRun:
    sent: int
    answered: int
    usage: ProcessUsage


@dataclass(frozen=True)
class Flatness:
    first_third_peak: int
    last_third_peak: int
    slope_mib_per_min: float

    @property
    def growth(self) -> int:
        return self.last_third_peak - self.first_third_peak

    @property
    def growth_percent(self) -> float:
        return 100 * self.growth / self.first_third_peak


def flatness(samples: list[Sample]) -> Flatness:
    """Needs at least 3 samples."""
    if len(samples) < 3:
        raise ValueError("at least 3 samples are needed")
    third = len(samples) // 3
    steady = samples[third:]  # the first third holds the start-up growth
    fit = linear_regression([s.at_s for s in steady], [s.rss / MIB for s in steady])
    return Flatness(
        first_third_peak=max(s.rss for s in samples[:third]),
        last_third_peak=max(s.rss for s in samples[-third:]),
        slope_mib_per_min=fit.slope * 60,
    )


def table_ttls(settings: Settings, ttl_s: float | None) -> dict[str, str]:
    """The worker's TTL variables: ``ttl_s`` for both tables, else the configured ones."""
    dedupe = settings.dedupe_ttl_s if ttl_s is None else ttl_s
    membership = settings.batch_membership_ttl_s if ttl_s is None else ttl_s
    return {
        "FRUGALFLOW_DEDUPE_TTL_S": f"{dedupe:g}",
        "FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S": f"{membership:g}",
    }


def run_memory(
    settings: Settings, workdir: Path, *, duration_s: float, rate: float, interval_s: float,
    timeout_s: float, ttl_s: float | None = None,
) -> BenchReport:  # fmt: skip
    n = max(1, round(duration_s * rate))
    ttls = table_ttls(settings, ttl_s)
    report = BenchReport(
        "memory",
        {
            "duration": f"{duration_s:g} s of traffic",
            "rate": f"{rate:g} requests/s (batch path)",
            "requests": n,
            "sample interval": f"{interval_s:g} s",
            "model": MODEL,
            "dedupe TTL": f"{ttls['FRUGALFLOW_DEDUPE_TTL_S']} s",
            "batch membership TTL": f"{ttls['FRUGALFLOW_BATCH_MEMBERSHIP_TTL_S']} s",
        },
        machine(),
    )
    with bench_stack(settings, workdir, pacing={**PACING, **ttls}) as stack:
        report.parameters["broker"] = stack.broker
        stack.configure_emulator(latency_ms=0, batch_delay_s=0)
        run = asyncio.run(_run(stack, n, rate, interval_s, timeout_s))
    _render(report, run, rate)
    return report


async def _run(
    stack: BenchStack, n: int, rate: float, interval_s: float, timeout_s: float
) -> MemoryRun:
    records = [
        Outgoing.request(workloads.request(stack.run_id, i, priority="batch", model=MODEL))
        for i in range(n)
    ]
    watch = await AnswerWatch(
        stack.bootstrap, stack.topic("llm.responses"), [r.request_id for r in records]
    ).start()
    producer = new_producer(stack.bootstrap)
    await producer.start()
    meter = ProcessMeter(stack.worker_pid, interval_s=interval_s).start()
    topic = stack.topic("llm.requests")
    try:
        started, sent = time.monotonic(), 0
        while sent < n:
            due = min(n, int((time.monotonic() - started) * rate) + 1)
            for record in records[sent:due]:
                await producer.send(topic, key=record.key, value=record.value)
            sent = max(sent, due)
            await asyncio.sleep(TICK_S)
        await producer.flush()
        await watch.wait(timeout_s)
    finally:
        usage = meter.stop()
        await producer.stop()
        await watch.stop()
    return MemoryRun(n, len(watch.arrivals), usage)


def _render(report: BenchReport, run: MemoryRun, rate: float) -> None:
    samples = run.usage.samples
    report.complete = run.answered == run.sent
    summary = report.section("Worker RSS", Column("figure"), Column("value", "num"))
    summary.add("requests sent", run.sent)
    summary.add("requests answered", run.answered)
    summary.add("samples", len(samples))
    summary.add("run length s (to the last answer)", round(run.usage.wall_s, 1))
    late_s = run.usage.wall_s - run.sent / rate  # after the last request went out
    summary.add("last answer s after the traffic ended", round(late_s, 1))
    if late_s > max(BEHIND_MIN_S, BEHIND_RATIO * run.sent / rate):
        hint = " or --broker apache-kafka" if report.parameters.get("broker") == "tansu" else ""
        report.notes.append(
            f"the stack fell behind ({late_s:.0f} s of backlog at the end): RSS then holds "
            f"the backlog, not the steady state; try a lower --rate{hint}"
        )
    if run.usage.cpu_percent is not None:
        summary.add("worker CPU % (of one core)", round(run.usage.cpu_percent))
    if len(samples) < 3:
        report.notes.append("fewer than 3 RSS samples (no /proc, or a very short run)")
        return
    flat = flatness(samples)
    summary.add("peak MiB, first third", mib(flat.first_third_peak))
    summary.add("peak MiB, last third", mib(flat.last_third_peak))
    summary.add("growth MiB (last - first third peak)", mib(flat.growth))
    summary.add("growth %", round(flat.growth_percent, 1))
    summary.add("slope MiB/min (last two thirds)", round(flat.slope_mib_per_min, 2))
    summary.add(
        "slope MiB per 10,000 requests (same fit)",
        round(flat.slope_mib_per_min / 60 / rate * 10_000, 2),
    )
    series = report.section("RSS over the run", Column("at s", "num"), Column("RSS MiB", "num"))
    last = len(samples) - 1
    for index in sorted({round(k * last / SERIES_POINTS) for k in range(SERIES_POINTS + 1)}):
        series.add(round(samples[index].at_s, 1), mib(samples[index].rss))
